"""`make feedback INPUT=labels.csv`: check a file of labels and append it to the feedback log.

The file (CSV or parquet) needs the columns `prediction_id` and `label`; other columns are
ignored. It is checked as strictly as a `/feedback` request (every id a UUIDv7 as the
service and batch scoring make them, every label one of the model's classes, or for a
regression model a finite number), and either all of it is imported or nothing: the error
names the first bad rows, and a file that does not fit in the feedback log's limit is
refused whole (`serving/label_import.py`).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from tabml.errors import TabmlError
from tabml.scoring.prediction_ids import PATTERN_TEXT
from tabml.serving.feedback import feedback_dir, feedback_max_bytes
from tabml.serving.label_import import FILE_LINES, import_lines
from tabml.tables import read_table

COLUMNS = ["prediction_id", "label"]
_SHOWN = 5  # bad rows named in the error


class LabelFileError(TabmlError, ValueError):
    """A labels file with malformed ids or labels outside the model's classes."""


def _numbers(labels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A regression model's labels as float64, and which of them are not finite numbers."""
    values = pd.to_numeric(labels.astype("string").str.strip(), errors="coerce")
    values = values.astype("float64")
    return values, pd.Series(~np.isfinite(values.to_numpy()), index=labels.index)


def check_labels(frame: pd.DataFrame, classes: list[str], source: str) -> pd.DataFrame:
    """The labels frame's ids (lowercase) and labels, checked, in file order.

    Without `classes` (a regression model) every label must be a finite number; the labels
    are then floats.

    Raises:
        LabelFileError: naming the first bad rows (1 = the first data row) and why.
    """
    ids = frame["prediction_id"].astype("string").str.strip().str.lower()
    bad_id = ~ids.str.fullmatch(PATTERN_TEXT).fillna(False).astype(bool)
    if classes:
        labels = frame["label"].astype("string").str.strip()
        bad_label = ~labels.isin(classes).fillna(False).astype(bool)
        expected = f"one of {classes}"
    else:
        labels, bad_label = _numbers(frame["label"])
        expected = "a finite number"
    problems = []
    for position in (bad_id | bad_label).to_numpy().nonzero()[0][:_SHOWN]:
        why = []
        if bad_id.iat[position]:
            why.append(f"prediction_id {frame['prediction_id'].iat[position]!r} is not a UUIDv7")
        if bad_label.iat[position]:
            why.append(f"label {frame['label'].iat[position]!r} is not {expected}")
        problems.append(f"row {position + 1}: {' and '.join(why)}")
    if problems:
        total = int((bad_id | bad_label).sum())
        raise LabelFileError(
            f"{source}: {total} bad row(s), nothing imported; {'; '.join(problems)}"
        )
    return pd.DataFrame({"prediction_id": ids, "label": labels})


def label_lines(checked: pd.DataFrame, source: str, stamp: str) -> Iterator[list[bytes]]:
    """The feedback log lines of checked labels, `FILE_LINES` at a time (bounded memory)."""
    head = f'{{"timestamp":"{stamp}","prediction_id":"'
    tail = "," + orjson.dumps({"source": source}).decode()[1:] + "\n"
    for start in range(0, len(checked), FILE_LINES):
        part = checked.iloc[start : start + FILE_LINES]
        ids = part["prediction_id"].tolist()
        encoded = {v: orjson.dumps(v).decode() for v in part["label"].unique().tolist()}
        labels = [encoded[v] for v in part["label"].tolist()]
        yield [f'{head}{i}","label":{v}{tail}'.encode() for i, v in zip(ids, labels, strict=True)]


def import_labels(
    path: Path, classes: list[str], directory: Path | None = None, max_bytes: int | None = None
) -> int:
    """Append every label of `path` to the feedback log, all or none; return how many.

    `max_bytes`: the log's limit (default `$TABML_FEEDBACK_MAX_BYTES`, else 100 MiB).
    """
    frame = read_table(Path(path), COLUMNS, ragged="refuse")  # all or nothing
    checked = check_labels(frame, list(classes), str(path))
    stamp = datetime.now(UTC).isoformat()
    lines = label_lines(checked, f"file:{Path(path).name}", stamp)
    limit = feedback_max_bytes() if max_bytes is None else max_bytes
    try:
        return import_lines(lines, directory or feedback_dir(), limit)
    except TabmlError as err:
        raise LabelFileError(f"{path}: {len(checked):,} labels: {err}") from None
