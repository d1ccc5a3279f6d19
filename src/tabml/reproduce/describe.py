"""How much a moved output moved, read from the DVC cache: numbers in JSON, cells in tables,
lines in text, files in a folder, else bytes.

Both sides are cache objects: the recorded one is in the cache when the shared cache or a
`dvc pull` put it there, the reproduced one because `dvc repro` committed it.
"""

import difflib
import hashlib
import json
import tarfile
from pathlib import Path

from tabml.reproduce.outputs import OutputChange, cache_object

TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".txt", ".log", ".html")
TABLE_SUFFIXES = (".parquet", ".csv")
ARCHIVE_SUFFIXES = (".bento", ".tar")
MODEL_SUFFIXES = (".joblib", ".pkl")
SHOWN = 3  # moved values / files named per output


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, object] = {}
    for key, inner in items:
        name = f"{prefix}{key}" if str(key).startswith("[") or not prefix else f"{prefix}.{key}"
        flat.update(_flatten(inner, name))
    return flat


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def describe_json(old: Path, new: Path) -> str:
    a, b = _flatten(json.loads(old.read_bytes())), _flatten(json.loads(new.read_bytes()))
    keys = [k for k in {**a, **b} if a.get(k, "<absent>") != b.get(k, "<absent>")]
    moved = sorted(
        (k for k in keys if _number(a.get(k)) and _number(b.get(k))),
        key=lambda k: -abs(float(b[k]) - float(a[k])),
    )
    shown = [f"{k} {a[k]} -> {b[k]} ({float(b[k]) - float(a[k]):+.3g})" for k in moved[:SHOWN]]
    other = [k for k in keys if k not in moved]
    shown += [f"{k} {a.get(k, '<absent>')!s:.40} -> {b.get(k, '<absent>')!s:.40}"
              for k in other[: max(0, SHOWN - len(shown))]]  # fmt: skip
    return f"{len(keys)} of {len(set(a) | set(b))} values moved: " + "; ".join(shown)


def _read_table(path: Path, suffix: str):
    import pandas as pd

    return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)


def describe_table(old: Path, new: Path, suffix: str) -> str:
    a, b = _read_table(old, suffix), _read_table(new, suffix)
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return f"shape {a.shape} -> {b.shape}, columns {list(a.columns) == list(b.columns)}"
    cells, largest = 0, {}
    for column in a.columns:
        x, y = a[column], b[column]
        differs = ~((x == y) | (x.isna() & y.isna()))
        cells += int(differs.sum())
        if differs.any() and x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
            gap = (y[differs].astype("float64") - x[differs].astype("float64")).abs().max()
            largest[column] = float(gap)
    where = [f"max |d {c}| {v:.3g}" for c, v in sorted(largest.items(), key=lambda i: -i[1])]
    columns = sum(1 for c in a.columns if not ((a[c] == b[c]) | (a[c].isna() & b[c].isna())).all())
    detail = f"{cells} of {a.size} cells in {columns} columns differ"
    return detail + (f" ({'; '.join(where[:SHOWN])})" if where else "")


def describe_text(old: Path, new: Path) -> str:
    a = old.read_text(errors="replace").splitlines()
    b = new.read_text(errors="replace").splitlines()
    changed = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]  # fmt: skip
    removed = next((line[1:] for line in changed if line.startswith("-")), "")
    added = next((line[1:] for line in changed if line.startswith("+")), "")
    return f"{len(changed)} lines differ, first: {removed[:80]!r} -> {added[:80]!r}"


def describe_archive(old: Path, new: Path) -> str:
    """Which members of two tar archives (a bento: tar.xz) differ in content."""

    def members(path: Path) -> dict[str, str]:
        with tarfile.open(path, "r:*") as tar:
            return {
                m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                for m in tar.getmembers()
                if m.isfile()
            }

    a, b = members(old), members(new)
    # A new model version renames its folder: a file moved with the same bytes is no change.
    changed = sorted(n for n, sha in b.items() if a.get(n) != sha and sha not in a.values())
    gone = [n for n, sha in a.items() if n not in b and sha not in b.values()]
    renamed = [n for n, sha in b.items() if n not in a and sha in a.values()]
    shown = ", ".join(name.removeprefix("./") for name in changed[:SHOWN])
    more = f" (+{len(changed) - SHOWN} more)" if len(changed) > SHOWN else ""
    detail = f"{len(changed)} of {len(b)} archived files have new content: {shown}{more}"
    detail += f"; {len(gone)} gone" if gone else ""
    return detail + (f"; {len(renamed)} renamed with the same bytes" if renamed else "")


def _arrays(value: object, prefix: str = "", depth: int = 0) -> dict[str, object]:
    """The numeric numpy arrays reachable from a fitted object (attributes, lists, dicts)."""
    import numpy as np

    if depth > 10:
        return {}
    if isinstance(value, np.ndarray):
        return {prefix: value} if value.dtype.kind in "fiu" else {}
    if isinstance(value, dict):
        items = [(f"{prefix}[{k!r}]", v) for k, v in value.items()]
    elif isinstance(value, list | tuple):
        # (name, estimator, ...) tuples (Pipeline steps, ColumnTransformer parts) by name
        named = all(isinstance(v, tuple) and len(v) > 1 and isinstance(v[0], str) for v in value)
        items = [(f"{prefix}.{v[0]}", v[1]) for v in value] if named and value else [
            (f"{prefix}[{i}]", v) for i, v in enumerate(value)]  # fmt: skip
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        items = [(f"{prefix}.{k}", v) for k, v in vars(value).items()]
    else:
        return {}
    found: dict[str, object] = {}
    for name, inner in items:
        found.update(_arrays(inner, name, depth + 1))
    return found


def describe_model(old: Path, new: Path) -> str:
    """The fitted numbers of two pickled models (joblib): which arrays moved, by how much."""
    import warnings

    import joblib
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # another scikit-learn version pickled one of them
        a, b = _arrays(joblib.load(old), "model"), _arrays(joblib.load(new), "model")
    moved = {}
    for name in a.keys() & b.keys():
        x, y = a[name], b[name]
        if x.shape == y.shape and not np.array_equal(x, y, equal_nan=True):
            moved[name] = float(np.nanmax(np.abs(y.astype("float64") - x.astype("float64"))))
    if not moved:
        return f"same fitted numbers ({len(a)} arrays), other pickled bytes differ"
    top = sorted(moved.items(), key=lambda item: -item[1])[:SHOWN]
    shown = "; ".join(f"{name} max |d| {gap:.3g}" for name, gap in top)
    return f"{len(moved)} of {len(a)} fitted arrays moved: {shown}"


def describe_dir(old: Path, new: Path, cache: Path) -> str:
    a = {e["relpath"]: e["md5"] for e in json.loads(old.read_bytes())}
    b = {e["relpath"]: e["md5"] for e in json.loads(new.read_bytes())}
    names = sorted(k for k in {**a, **b} if a.get(k) != b.get(k))
    details = []
    for name in names[:SHOWN]:
        inner = OutputChange(stage="", path=name, recorded=a.get(name), reproduced=b.get(name))
        details.append(f"{name}: {describe(inner, cache)}")
    more = f" (+{len(names) - SHOWN} more)" if len(names) > SHOWN else ""
    return f"{len(names)} of {len(set(a) | set(b))} files differ{more}: " + " | ".join(details)


def _size(path: Path) -> str:
    return f"{path.stat().st_size:,}"


def describe(change: OutputChange, cache: Path) -> str:
    """One line: how much `change` moved, or why that cannot be said."""
    if change.recorded is None:
        return "not in the recorded dvc.lock (a new output)"
    if change.reproduced is None:
        return "not produced by the reproduction"
    old, new = cache_object(cache, change.recorded), cache_object(cache, change.reproduced)
    if old is None:
        return "recorded content not in the DVC cache (`dvc pull` it for details); hash moved"
    if new is None:
        return "reproduced content not in the DVC cache; hash moved"
    suffix = Path(change.path).suffix.lower()
    try:
        if change.recorded.endswith(".dir"):
            return describe_dir(old, new, cache)
        if suffix == ".json":
            return describe_json(old, new)
        if suffix in TABLE_SUFFIXES:
            return describe_table(old, new, suffix)
        if suffix in TEXT_SUFFIXES:
            return describe_text(old, new)
        if suffix in ARCHIVE_SUFFIXES or change.path.endswith((".tar.gz", ".tar.xz")):
            return describe_archive(old, new)
        if suffix in MODEL_SUFFIXES:
            return describe_model(old, new)
    except Exception as err:  # unreadable: say bytes; a description never fails the run
        return f"bytes differ ({_size(old)} -> {_size(new)} bytes; not comparable: {err})"
    return f"bytes differ ({_size(old)} -> {_size(new)} bytes)"
