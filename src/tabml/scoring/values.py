"""Type normalisation: one rule per feature kind for a value from any surface.

A JSON record, a CSV cell and a parquet value reach the model through these functions, so
the same input means the same thing everywhere (docs/own-data.md, "Types"):

- bytes (a parquet BINARY column) are UTF-8 text; bytes that are not UTF-8 are refused;
- a numeric feature takes a number, or text that is one (`"48.6"`, `" 1e3 "`: CSV cells are
  all text, and some parquet writers store numbers so); a boolean is refused (true is not a
  measurement), and so is an infinite number;
- a categorical feature takes text as written; a whole number becomes its digits (`3`,
  `3.0`, a numpy integer: `"3"`), another number its shortest form (`"2.5"`), and a boolean
  `True`/`False` in the spelling of the feature's allowed values (`true`, `TRUE`, ...);
- missing is None, NaN or pandas' NA, whatever the kind.

Each function returns the normalised value or raises `InvalidValue` with the reason, which
becomes the API's field error, the batch reject's reason and the validate report's line.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


class InvalidValue(ValueError):
    """A value that no rule converts for its feature; the message says why."""


def shown(value: Any, limit: int = 100) -> str:
    """A value as quoted in a reason: text cut to `limit` characters (a cell can hold
    megabytes), anything else as its repr."""
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit] + "..."
    return repr(value)


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return value is pd.NA or value is pd.NaT


def text_of(value: bytes) -> str:
    """Bytes as UTF-8 text."""
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue(f"{shown(value)} is not UTF-8 text") from None


def number(value: Any) -> float:
    """A numeric feature's value as a float (NaN when missing)."""
    if isinstance(value, bytes | bytearray):
        value = text_of(value)
    if isinstance(value, bool | np.bool_):
        raise InvalidValue(f"{value!r} is not a number")
    if isinstance(value, str):
        try:
            found = float(value)
        except ValueError:
            raise InvalidValue(f"{shown(value)} is not a number") from None
        if math.isnan(found):  # float() reads "nan": text that names no number
            raise InvalidValue(f"{shown(value)} is not a number")
    elif is_missing(value):
        return math.nan
    elif isinstance(value, int | float | np.integer | np.floating):
        found = float(value)
    else:
        raise InvalidValue(f"{shown(value)} is not a number")
    if math.isinf(found):
        raise InvalidValue(f"{shown(value)} is not finite")
    return found


def boolean_spelling(allowed: Sequence[str] | None) -> tuple[str, str]:
    """How a boolean is written among `allowed` (false, true): `True`/`False` by default."""
    spelled = {text.lower(): text for text in allowed or () if text.lower() in ("true", "false")}
    return spelled.get("false", "False"), spelled.get("true", "True")


def category(value: Any, booleans: tuple[str, str] = ("False", "True")) -> str | None:
    """A categorical feature's value as text (None when missing).

    `booleans`: the (false, true) spelling, from `boolean_spelling` of the allowed values.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return text_of(value)
    if isinstance(value, bool | np.bool_):
        return booleans[bool(value)]
    if is_missing(value):
        return None
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            raise InvalidValue(f"{value!r} is not finite")
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    raise InvalidValue(f"{shown(value)} is not a category (text or a number)")
