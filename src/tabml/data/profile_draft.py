"""Write bootstrap's draft profile and schema, never over a different one unless forced.

`configs/<name>.yaml` may be a shipped profile (penguins) or one a user has reviewed and
edited; writing over it silently loses that. So an existing file that differs from the draft
is refused with the keys that differ, and `--force` (`make bootstrap ... FORCE=1`) is the
explicit way to replace it.
"""

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tabml import atomic, paths, yaml_io
from tabml.data.bootstrap import BootstrapSummary, infer_schema
from tabml.data.leakage import leak_suspects
from tabml.data.profile import ProfileError
from tabml.data.task import infer_task, is_quantity
from tabml.errors import TabmlError
from tabml.tables import sha256_of

SHOWN_DIFFERENCES = 12


class BootstrapOverwriteError(TabmlError):
    """The profile or schema exists and differs from what bootstrap would write."""


def differences(old: Any, new: Any, at: str = "") -> list[str]:
    """Dotted keys whose values differ between two YAML documents (added and removed too)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        found = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{at}.{key}" if at else str(key)
            if key not in new:
                found.append(f"{where} (only in the existing file)")
            elif key not in old:
                found.append(f"{where} (new)")
            else:
                found += differences(old[key], new[key], where)
        return found
    return [] if old == new else [at or "(the whole file)"]


def _differences_from(path: Path, text: str) -> list[str] | None:
    """None if `path` is absent or holds `text`; else the keys in which it differs."""
    if not path.exists() or path.read_text() == text:
        return None
    try:
        return differences(yaml_io.load(path.read_text()), yaml_io.load(text))
    except yaml.YAMLError:
        return []


def _refuse(path: Path, found: list[str]) -> None:
    shown = ", ".join(found[:SHOWN_DIFFERENCES]) or "its text"
    more = f" and {len(found) - SHOWN_DIFFERENCES} more" if len(found) > SHOWN_DIFFERENCES else ""
    raise BootstrapOverwriteError(
        f"{path} exists and differs from what bootstrap would write ({shown}{more}): "
        "bootstrap does not overwrite it. Rerun with --force (make bootstrap ... FORCE=1) "
        "to replace it, losing its edits, or choose another --name"
    )


def write_profile(
    csv: Path,
    name: str,
    target: str,
    configs_dir: Path = paths.CONFIGS,
    categorical: Collection[str] = (),
    force: bool = False,
) -> BootstrapSummary:
    """Write configs/<name>.yaml and configs/<name>.schema.yaml from `csv`; say what it did.

    Raises:
        ProfileError: the target or a `categorical` column is not in the file.
        BootstrapOverwriteError: a file exists and differs from the draft (without `force`).
    """
    frame = pd.read_csv(csv)
    texts = pd.read_csv(csv, dtype=str)  # categories and dates as written
    absent = [c for c in (target, *categorical) if c not in frame.columns]
    if absent:
        raise ProfileError(f"{csv} has no column(s) {absent}; columns: {list(frame.columns)}")
    schema, summary = infer_schema(frame, target, texts, categorical)
    task = infer_task(frame[target])
    suspects = leak_suspects(frame, target, is_quantity(frame[target]), frozenset(summary.dates))
    for column, why in suspects.items():  # dropped: a reviewer puts one back knowingly
        if column in summary.numeric or column in summary.categorical:
            kept = summary.numeric if column in summary.numeric else summary.categorical
            kept.remove(column)
            summary.dropped[column] = f"suspected leak: {why}"
    features: dict = {"numeric": summary.numeric, "categorical": summary.categorical}
    if summary.dates:
        features["dates"] = summary.dates
    profile = {
        "name": name,
        "description": f"Bootstrapped from {csv}; review before use.",
        "source": {"path": str(csv), "sha256": sha256_of(csv)},
        "target": target,
        "task": task,
        "features": features,
    }
    if suspects:
        profile["leak_suspects"] = suspects
    files = {
        configs_dir / f"{name}.yaml": yaml.safe_dump(profile, sort_keys=False),
        configs_dir / f"{name}.schema.yaml": schema.to_yaml(),
    }
    for path, text in files.items():
        changed = _differences_from(path, text)
        if changed is not None and not force:
            _refuse(path, changed)
        if changed is not None:
            summary.replaced[str(path)] = changed
    for path, text in files.items():
        atomic.write_text(path, text)
    return summary
