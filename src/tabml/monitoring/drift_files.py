"""Drift report files: read production inputs, write metrics, DVC plot data and verdicts."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tabml import atomic, paths
from tabml.monitoring.contracts import DriftReport, checked
from tabml.monitoring.drift import DriftInputError, summary_line
from tabml.monitoring.join import drop_duplicate_predictions
from tabml.monitoring.sources import read_request_log
from tabml.serving.request_log import log_dir
from tabml.tables import read_table

_PLOT_KEYS = ("bins", "training_shares", "production_shares")


@dataclass(frozen=True)
class DriftInputs:
    """Production inputs, and what reading the request log left out."""

    frame: pd.DataFrame
    skipped: int = 0  # log entries that are not usable records (torn, not JSON, ...)
    duplicates: int = 0  # logged predictions whose id was logged before

    def note(self) -> str:
        """What was left out, for the command's last line ("" when nothing was)."""
        parts = [f"{self.skipped:,} unreadable log entries skipped"] if self.skipped else []
        if self.duplicates:
            parts.append(f"{self.duplicates:,} duplicated predictions dropped")
        return f" ({', '.join(parts)})" if parts else ""


def read_inputs(path: Path | None, logs: Path | None = None) -> DriftInputs:
    """Production inputs from a CSV/parquet file, or (no path) from the request log.

    The request log is read as `make monitor` reads it (`sources.read_request_log`: bad
    entries skipped and counted, never an error) and a prediction id logged twice counts
    once, as in the monitoring join.
    """
    if path is None:
        logs = logs or log_dir()
        read = read_request_log(logs)
        frame, duplicates = drop_duplicate_predictions(read.frame)
        if frame.empty:
            skipped = f" ({read.skipped:,} unreadable entries skipped)" if read.skipped else ""
            raise DriftInputError(
                f"no logged requests in {logs}/{skipped}; serve some traffic or pass INPUT=file.csv"
            )
        return DriftInputs(frame, read.skipped, duplicates)
    return DriftInputs(read_table(Path(path)))


def _rounded(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def metrics(report: dict, source: str) -> dict:
    """The metrics file: per-feature measurements and verdicts, without the plot bins."""
    features = {
        name: {k: _rounded(v) for k, v in result.items() if k not in _PLOT_KEYS}
        for name, result in report["features"].items()
    }
    return {
        "source": source,
        "rows": report["rows"],
        "training_rows": report["training_rows"],
        "drifted": report["drifted"],
        "features": features,
    }


def psi_rows(report: dict) -> list[dict]:
    """Plot data: PSI per feature (a sorted horizontal bar chart)."""
    return [{"feature": n, "psi": round(r["psi"], 6)} for n, r in report["features"].items()]


def distribution_rows(report: dict) -> list[dict]:
    """Plot data: training vs production share of every bin of every feature."""
    rows = []
    for name, result in report["features"].items():
        for index, label in enumerate(result["bins"]):
            for sample in ("training", "production"):
                share = result[f"{sample}_shares"][index]
                rows.append(
                    {
                        "feature": name,
                        "bin": label,
                        "bin_index": index,
                        "sample": sample,
                        "share": round(share, 6),
                    }
                )
    return rows


def verdict_lines(report: dict) -> list[str]:
    """One line per feature: name, verdict, measurements and the reasons for the verdict."""
    width = max(len(n) for n in report["features"])
    lines = []
    for name, result in report["features"].items():
        why = f"  <- {'; '.join(result['reasons'])}" if result["reasons"] else ""
        lines.append(
            f"{name:<{width}}  {result['verdict'].upper():<7}  {summary_line(result)}{why}"
        )
    return lines


def write_report(report: dict, source: str, out_dir: Path = paths.DRIFT_DIR) -> list[str]:
    """Write metrics.json, psi.json, distributions.json and report.md; return the verdicts."""
    lines = verdict_lines(report)
    written = metrics(report, source)
    checked(DriftReport, written, str(out_dir / paths.DRIFT_METRICS.name))
    atomic.write_json(out_dir / paths.DRIFT_METRICS.name, written)
    atomic.write_json(out_dir / paths.DRIFT_PSI_PLOT.name, psi_rows(report))
    atomic.write_json(out_dir / paths.DRIFT_BINS_PLOT.name, distribution_rows(report))
    drifted = ", ".join(report["drifted"]) or "none"
    markdown = [
        f"# Drift report: {source}",
        f"{report['rows']} production rows vs {report['training_rows']} training rows;"
        f" drifted features: {drifted}",
        "",
        "```text",
        *lines,
        "```",
    ]
    atomic.write_text(out_dir / paths.DRIFT_REPORT.name, "\n".join(markdown) + "\n")
    return lines
