"""Validate raw rows against the domain schema and explain every failure.

`validate_raw` never raises on bad data: it returns a `ValidationReport` listing, per
column and check, the failing values and row numbers, so the stage can write the report
for review and then stop the pipeline. Date columns are also parsed in their declared format
by the runtime's own parser (`tabml.scoring.dates`), so a day that does not exist or a value
in another layout is a report line; a column where no value parses is the report's `fatal`
line (the format is wrong, not a few values), which the stage prints as its one error line.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from tabml.data.profile import TargetRule
from tabml.errors import TabmlError
from tabml.tables import TableError, read_table

MAX_EXAMPLES = 20  # failing values / rows listed per check in the report


class RawDataError(TabmlError, ValueError):
    """The raw file cannot be read as a table at all (empty, not CSV, ...)."""


@dataclass
class Failure:
    column: str | None
    check: str
    count: int
    failing_values: list
    rows: list[int]  # 0-based data row index; the CSV line is row + 2 (header is line 1)


@dataclass
class ValidationReport:
    source: str
    rows_read: int
    rows_missing_target: int = 0
    rows_valid: int = 0
    failures: list[Failure] = field(default_factory=list)
    fatal: str | None = None  # one line: the data cannot be what the profile says at all

    @property
    def ok(self) -> bool:
        return not self.failures and self.fatal is None

    def to_dict(self) -> dict:
        found = asdict(self)
        if found["fatal"] is None:  # absent when there is none: a passing report is unchanged
            del found["fatal"]
        return {"ok": self.ok, **found}


def read_raw(path: Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read the raw CSV (`tabml.tables`, one pandas parse of the whole file); raise
    RawDataError with a clear message if it is not a table.

    `text_columns` (categorical and date features) are read as written, not as numbers or
    booleans: batch scoring reads a file's categories so, and a category `01` stays `01`.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise RawDataError(f"{path} is empty: expected a CSV file with a header row")
    try:
        return read_table(path, ragged="refuse", empty_ok=True, text=text_columns)
    except TableError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise RawDataError(f"{path} is not a readable CSV file: {reason}") from None


def unreadable_report(source: str, error: RawDataError) -> ValidationReport:
    """The report for a raw file that is not a table at all."""
    report = ValidationReport(source=source, rows_read=0)
    report.failures = [Failure(None, "readable CSV with a header row", 1, [str(error)], [])]
    return report


def derive_target(frame: pd.DataFrame, target: str, rule: TargetRule | None) -> pd.DataFrame:
    """Add the `target` column computed by the profile's target rule (if it has one).

    Missing source values give a missing label. A present but non-numeric source value still
    gets a label, so the row reaches the schema, which reports it, instead of being dropped.
    If the source column itself is absent, nothing is added and the schema reports both.
    """
    if rule is None or rule.column not in frame.columns:
        return frame
    source = frame[rule.column]
    above = pd.to_numeric(source, errors="coerce") > rule.greater_than
    label = pd.Series(rule.labels[0], index=frame.index, dtype=object)
    label[above] = rule.labels[1]
    return frame.assign(**{target: label.where(source.notna())})


def drop_missing_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """Remove rows without a label; return the rest and how many were dropped."""
    if target not in frame.columns:
        return frame, 0
    missing = frame[target].isna()
    return frame.loc[~missing], int(missing.sum())


def jsonable(value):
    """A failing value as JSON can hold it (numpy scalars as Python ones, NaN as null)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return value.item() if hasattr(value, "item") else str(value)


def _failures(cases: pd.DataFrame) -> list[Failure]:
    failures = []
    cases = cases.assign(column=cases["column"].astype(object).where(cases["column"].notna()))
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
        index = pd.to_numeric(group["index"], errors="coerce").dropna().astype(int)
        failures.append(
            Failure(
                column=None if pd.isna(column) else str(column),
                check=str(check),
                count=len(group),
                failing_values=[jsonable(v) for v in group["failure_case"].head(MAX_EXAMPLES)],
                rows=sorted(index.unique().tolist())[:MAX_EXAMPLES],
            )
        )
    return failures


def validate_raw(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    target: str,
    min_rows: int,
    source: str = "",
    dates: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame | None, ValidationReport]:
    """Check every row and column lazily; return the clean frame (or None) and the report.

    `dates`: date column -> declared format, each value parsed as training will parse it.
    """
    report = ValidationReport(source=source, rows_read=len(frame))
    labelled, report.rows_missing_target = drop_missing_target(frame, target)
    from tabml.data.date_checks import date_failures  # it builds this module's Failure

    report.failures, report.fatal = date_failures(labelled, dates or {})
    try:
        clean = schema.validate(labelled, lazy=True)
    except SchemaErrors as err:
        report.failures = _failures(err.failure_cases) + report.failures
        return None, report
    except SchemaError as err:  # non-lazy errors, e.g. a dataframe-level check
        report.failures = [Failure(None, str(err.check), 1, [str(err)], []), *report.failures]
        return None, report
    if report.failures:
        return None, report
    if len(clean) < min_rows:
        report.failures = [Failure(None, f"at least {min_rows} labelled rows", 1, [len(clean)], [])]
        return None, report
    report.rows_valid = len(clean)
    return clean.reset_index(drop=True), report


def render_report(report: ValidationReport) -> str:
    """Human-readable markdown: one table row per failing column and check."""
    lines = [
        f"# Validation report: {'PASSED' if report.ok else 'FAILED'}",
        "",
        *([f"**{report.fatal}**", ""] if report.fatal else []),
        f"- source: `{report.source}`",
        f"- rows read: {report.rows_read}",
        f"- rows dropped for a missing target: {report.rows_missing_target}",
        f"- valid rows: {report.rows_valid}",
    ]
    if report.failures:
        lines += [
            "",
            "| column | check | failures | failing values (first 20) "
            "| rows (0-based; CSV line = row + 2) |",
            "|---|---|---|---|---|",
        ]
        for f in report.failures:
            values = ", ".join(repr(v) for v in f.failing_values)
            rows = ", ".join(str(r) for r in f.rows) or "-"
            column = f.column or "(table)"
            lines.append(f"| {column} | `{f.check}` | {f.count} | {values} | {rows} |")
        lines += ["", "Fix the raw data (or the domain rules in the schema file) and rerun."]
    return "\n".join(lines) + "\n"
