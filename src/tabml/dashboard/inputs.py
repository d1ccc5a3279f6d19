"""What the dashboard is built from: the report files the other commands already write.

Each reader returns None (or an empty list) when its file does not exist yet, so the page
can say which command fills that section; a file that exists but cannot be read is an
error naming it. The monitor report, the drift metrics and the retrain decision are read by
their typed records' readers (`tabml.monitoring.contracts`, `tabml.retrain.decision_files`),
so a file that is not what its writer writes is an error naming the key, not a broken page.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from tabml import paths
from tabml.errors import TabmlError
from tabml.monitoring.contracts import read_drift_metrics, read_monitor_report
from tabml.monitoring.paired import PAIRED_FILE
from tabml.retrain.decision_files import DECISION_DIR, read_decision

DECISION = DECISION_DIR / "decision.json"
REVIEW = Path("reports/review/report.md")
MONITOR_WINDOWS = paths.MONITOR_DIR / "windows.json"


class DashboardInputError(TabmlError, ValueError):
    """A report file the dashboard reads is unreadable."""


def read_json(path: Path):
    """The parsed file, or None when it does not exist."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DashboardInputError(
            f"{path}: not readable JSON ({err}); rerun the command that writes it"
        ) from err


def read_record(reader: Callable[[Path], BaseModel], path: Path) -> dict | None:
    """A typed report file, validated by its `reader`, as the dict its writer wrote (keys it
    did not write stay absent); None when it does not exist."""
    if not path.is_file():
        return None
    return reader(path).model_dump(mode="json", exclude_unset=True)


def read_text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


@dataclass
class Reports:
    """Every file the page draws from (None: not written yet)."""

    monitor: dict | None = None  # make monitor: reports/monitor/windows.json
    drift: dict | None = None  # make drift: reports/drift/metrics.json
    drift_bins: list = field(default_factory=list)  # reports/drift/distributions.json
    metrics: dict | None = None  # the evaluate stage: reports/metrics.json
    model_card: str | None = None  # the package stage: reports/model_card.md
    review: str | None = None  # make report: reports/review/report.md
    decision: dict | None = None  # make retrain: reports/retrain/decision.json
    paired: dict | None = None  # make monitor after SHADOW/CANARY: reports/monitor/paired.json


def read_reports(root: Path) -> Reports:
    """The report files under the workspace `root`."""
    root = Path(root)
    return Reports(
        monitor=read_record(read_monitor_report, root / MONITOR_WINDOWS),
        drift=read_record(read_drift_metrics, root / paths.DRIFT_METRICS),
        drift_bins=read_json(root / paths.DRIFT_BINS_PLOT) or [],
        metrics=read_json(root / paths.METRICS),
        model_card=read_text(root / paths.MODEL_CARD),
        review=read_text(root / REVIEW),
        decision=read_record(read_decision, root / DECISION),
        paired=read_json(root / paths.MONITOR_DIR / PAIRED_FILE),
    )
