"""The answers a version gives on its own test split, and how two sets of answers differ.

The test split is scored the way a user scores a file: `python -m tabml.cli batch` with the
version's own code and environment, into a throw-away SQLite database. Its `predictions`
view (less the columns that name the run: ids, times, git and model versions) and its
`rejects` are the answers; their sha256 is what registering records.
"""

import hashlib
import json
import math
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from pydantic import BaseModel

from tabml import paths
from tabml.errors import TabmlError

# Columns of the `predictions` view that say when and by what a row was scored, not what.
RUN_COLUMNS = frozenset({"batch_id", "model_version", "git_sha", "scored_at", "prediction_id"})


class AnswersError(TabmlError, RuntimeError):
    """The test split could not be scored."""


class Answers(BaseModel, frozen=True):
    """One row per scored input row (in input order), and the rejected rows with reasons."""

    columns: list[str]
    rows: list[list]
    rejects: list[list]

    def sha256(self) -> str:
        canonical = json.dumps(self.model_dump(), separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def read_answers(db: Path) -> Answers:
    """The answers in a batch database written by one `tabml.cli batch` run."""
    with sqlite3.connect(db) as connection:
        cursor = connection.execute("SELECT * FROM predictions ORDER BY input_row")
        names = [d[0] for d in cursor.description]
        keep = [i for i, name in enumerate(names) if name not in RUN_COLUMNS]
        rows = [[row[i] for i in keep] for row in cursor.fetchall()]
        rejects = connection.execute(
            "SELECT input_row, reason FROM rejects ORDER BY input_row"
        ).fetchall()
    return Answers(columns=[names[i] for i in keep], rows=rows, rejects=[list(r) for r in rejects])


def score_test_split(python: str, tree: Path, env: dict[str, str]) -> Answers:
    """Score `tree`'s test split with its packaged model, by `python -m tabml.cli batch`."""
    with tempfile.TemporaryDirectory(prefix="tabml-answers-") as tmp:
        db = Path(tmp) / "answers.db"
        cmd = [python, "-m", "tabml.cli", "batch", str(paths.TEST_DATA), "--db", f"sqlite:///{db}"]
        result = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        if result.returncode != 0 or not db.exists():
            said = (result.stderr.strip() or result.stdout.strip())[-1500:]
            raise AnswersError(
                f"scoring {paths.TEST_DATA} failed (exit {result.returncode}): {said}"
            )
        return read_answers(db)


def _moved(old: object, new: object) -> float | None:
    """|new - old| for two numbers, None when either is not a number."""
    numbers = (int, float)
    if isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool):
        if math.isnan(old) and math.isnan(new):
            return 0.0
        return abs(float(new) - float(old))
    return None


class AnswersDiff(BaseModel, frozen=True):
    """How `new` answers differ from `old` ones, column by column."""

    rows: tuple[int, int]
    changed_rows: int
    text_changed: dict[str, int]  # column -> rows whose text (a label) changed
    largest_change: dict[str, float]  # numeric column -> max |new - old|
    rejects_changed: bool

    @property
    def identical(self) -> bool:
        return self.changed_rows == 0 and self.rows[0] == self.rows[1] and not self.rejects_changed

    def within(self, tolerance: float) -> bool:
        """Same rows, same labels and every number within `tolerance`."""
        return (
            self.rows[0] == self.rows[1]
            and not self.rejects_changed
            and not any(self.text_changed.values())
            and all(change <= tolerance for change in self.largest_change.values())
        )

    def summary(self) -> str:
        if self.identical:
            return f"identical ({self.rows[1]} rows)"
        parts = [f"{self.changed_rows} of {self.rows[0]} rows changed"]
        if self.rows[0] != self.rows[1]:
            parts.append(f"row count {self.rows[0]} -> {self.rows[1]}")
        parts += [f"{n} {column} changed" for column, n in self.text_changed.items() if n]
        parts += [f"max |d {c}| {v:.3g}" for c, v in self.largest_change.items() if v]
        if self.rejects_changed:
            parts.append("the rejected rows changed")
        return "; ".join(parts)


def compare_answers(old: Answers, new: Answers) -> AnswersDiff:
    """Compare answers column by column (columns matched by name)."""
    shared = [c for c in old.columns if c in new.columns]
    at_old = {c: old.columns.index(c) for c in shared}
    at_new = {c: new.columns.index(c) for c in shared}
    text: dict[str, int] = {}
    largest: dict[str, float] = {}
    changed = 0
    for old_row, new_row in zip(old.rows, new.rows):
        row_changed = set(old.columns) != set(new.columns)
        for column in shared:
            a, b = old_row[at_old[column]], new_row[at_new[column]]
            moved = _moved(a, b)
            if moved is None:
                differs = a != b
                text[column] = text.get(column, 0) + differs
            else:
                differs = moved > 0
                largest[column] = max(largest.get(column, 0.0), moved)
            row_changed = row_changed or differs
        changed += row_changed
    changed += abs(len(old.rows) - len(new.rows))
    return AnswersDiff(
        rows=(len(old.rows), len(new.rows)),
        changed_rows=changed,
        text_changed=text,
        largest_change=largest,
        rejects_changed=old.rejects != new.rejects,
    )
