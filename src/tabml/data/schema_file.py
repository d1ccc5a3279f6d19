"""A schema file as a user edits it by hand: every mistake is one line naming the key.

pandera's `DataFrameSchema.from_yaml` reports a mistyped dtype, check name or check argument
with an 80-line traceback that names neither the column nor the key, and takes some mistakes
silently (`nullable: maybe`, a misspelt `nulable:`, which it ignores). `read_schema` checks
the document key by key first, with pandera's own constructors (`pa.Column` for a dtype,
`pa.Check.<name>(...)` for a check), then builds the schema; what is still refused is one
line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tabml import yaml_io
from tabml.errors import TabmlError

if TYPE_CHECKING:
    import pandera.pandas as pa

# The keys pandera's YAML format reads (pandera.io.pandas_io); others would be ignored.
SCHEMA_KEYS = {
    "schema_type", "version", "columns", "checks", "index", "dtype", "coerce", "strict",
    "name", "ordered", "unique", "report_duplicates", "unique_column_names",
    "add_missing_columns", "title", "description", "metadata", "drop_invalid_rows",
    "dataframe_library", "api", "multiindex",
}  # fmt: skip
COLUMN_KEYS = {
    "dtype", "nullable", "checks", "unique", "coerce", "required", "regex", "name", "title",
    "description", "default", "report_duplicates", "drop_invalid_rows",
}  # fmt: skip
FLAGS = ("nullable", "unique", "coerce", "required", "regex", "drop_invalid_rows")


class SchemaFileError(TabmlError, ValueError):
    """A schema file pandera cannot read, or that says something other than it means."""


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _yaml_document(path: Path) -> Any:
    try:
        return yaml_io.load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SchemaFileError(f"{path}: not valid YAML{where}: {err.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SchemaFileError(f"{path}: cannot be read: {_first_line(err)}") from None


def _is_check(name: str) -> bool:
    import pandera.pandas as pa

    return not name.startswith("_") and callable(getattr(pa.Check, name, None))


def _check_problem(key: str, name: str, arguments: Any) -> str | None:
    import pandera.pandas as pa

    factory = getattr(pa.Check, name, None)
    if not _is_check(name):
        return f"{key}: no pandera check is called {name!r} (e.g. in_range, isin, ge, le)"
    if name in ("isin", "notin") and not isinstance(arguments, list):  # "Biscoe": its letters
        return f"{key}: expected a list of values, got {arguments!r}"
    try:
        factory(**arguments) if isinstance(arguments, dict) else factory(arguments)
    except Exception as err:  # pandera raises many types for bad arguments
        return f"{key}: {_first_line(err)}"
    return None


def _column_problem(name: str, spec: Any) -> str | None:
    import pandera.pandas as pa

    key = f"columns.{name}"
    if not isinstance(spec, dict):
        return f"{key}: expected a mapping (dtype, nullable, checks, ...), got {spec!r}"
    # A check may also sit beside the other keys (`isin: [...]`, as pandera writes them).
    flat = {k: v for k, v in spec.items() if k not in COLUMN_KEYS and _is_check(str(k))}
    for unknown in sorted(set(spec) - COLUMN_KEYS - set(flat), key=str):
        return f"{key}.{unknown}: not a key or check pandera reads (keys: {sorted(COLUMN_KEYS)})"
    if flat and spec.get("checks") is not None:  # pandera would ignore them
        return f"{key}.{next(iter(flat))}: a check beside `checks:`; move it under `checks:`"
    for flag in FLAGS:
        if flag in spec and not isinstance(spec[flag], bool):
            return f"{key}.{flag}: expected true or false, got {spec[flag]!r}"
    if spec.get("dtype") is not None:
        try:
            pa.Column(spec["dtype"])
        except Exception as err:  # pandera and pandas raise many types for a bad dtype
            return f"{key}.dtype: {_first_line(err)}"
    checks = spec.get("checks") or flat
    if isinstance(checks, list):  # pandera's list form: pandera itself checks it below
        return None
    if not isinstance(checks, dict):
        return f"{key}.checks: expected a mapping of check name to its arguments"
    where = key if checks is flat else f"{key}.checks"  # as the file spells it
    for check, arguments in checks.items():
        problem = _check_problem(f"{where}.{check}", str(check), arguments)
        if problem:
            return problem
    return None


def read_schema(path: Path) -> pa.DataFrameSchema:
    """The pandera schema in `path` (pandera's YAML format), checked key by key.

    Raises:
        SchemaFileError: one line naming the file and the key (`columns.island.dtype`).
    """
    import pandera.pandas as pa

    path = Path(path)
    document = _yaml_document(path)
    if not isinstance(document, dict):
        raise SchemaFileError(f"{path}: expected a mapping with a `columns:` key")
    for unknown in sorted(set(document) - SCHEMA_KEYS, key=str):
        raise SchemaFileError(f"{path}: {unknown}: not a key pandera reads (misspelt `columns`?)")
    columns = document.get("columns") or {}
    if not isinstance(columns, dict):
        raise SchemaFileError(f"{path}: columns: expected a mapping of column name to rules")
    for name, spec in columns.items():
        problem = _column_problem(str(name), spec)
        if problem:
            raise SchemaFileError(f"{path}: {problem}")
    try:
        return pa.DataFrameSchema.from_yaml(path)
    except Exception as err:  # what the checks above do not name
        raise SchemaFileError(f"{path}: pandera cannot read it: {_first_line(err)}") from None
