"""Row checks for scoring, vectorised over a DataFrame, derived from the domain rules.

The same rules as the API's request model, with per-row reasons: batch scoring rejects rows
instead of failing the whole file.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tabml.scoring.rules import DomainRule
from tabml.scoring.transforms import as_datetime

Reason = tuple[np.ndarray, Sequence[Any], str]  # (row mask, values, message template)
SHOWN_VALUE_CHARS = 100  # a text value quoted in a reason (a cell can hold megabytes)


def _numeric_reasons(raw: pd.Series, rule: DomainRule) -> list[Reason]:
    """Not a number, not finite, below the minimum, above the maximum."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        # Fast path (a million-row batch): a numeric column holds neither text nor booleans.
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        not_a_number = np.zeros(len(values), dtype=bool)
    else:
        raw = raw.astype(object)
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        is_bool = raw.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        not_a_number = (raw.notna().to_numpy() & np.isnan(values)) | is_bool
    finite = np.isfinite(values) & ~not_a_number
    found = [
        (not_a_number, raw, "{v!r} is not a number"),
        (np.isinf(values), values, "{v} is not finite"),
    ]
    if rule.minimum is not None:
        found.append((finite & (values < rule.minimum), values, f"{{v}} < minimum {rule.minimum}"))
    if rule.maximum is not None:
        found.append((finite & (values > rule.maximum), values, f"{{v}} > maximum {rule.maximum}"))
    return found


def check_frame(frame: pd.DataFrame, rules: Sequence[DomainRule]) -> list[list[str]]:
    """Per row, the reasons it breaks the rules (an empty list for a valid row).

    Columns outside the rules (a key, the target) are allowed: a frame is a table, not a request.
    """
    found = frame_problems(frame, rules)
    return [found.get(i, []) for i in range(len(frame))]


def distinct_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes into the column's distinct values (-1 for missing) and those values.

    A pandas categorical (batch scoring reads categorical features so) already has both.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    codes, uniques = pd.factorize(column.astype(object))
    return codes, pd.Index(uniques)


def frame_problems(frame: pd.DataFrame, rules: Sequence[DomainRule]) -> dict[int, list[str]]:
    """`check_frame` for large frames: reasons only for rows (positions) that break a rule."""
    reasons: defaultdict[int, list[str]] = defaultdict(list)
    for rule in rules:
        if rule.name not in frame.columns:
            for i in range(len(frame)):
                reasons[i].append(f"{rule.name}: missing column")
            continue
        raw = frame[rule.name]
        missing = raw.isna().to_numpy()
        found: list[Reason] = []
        if not rule.nullable:
            found.append((missing, raw, "missing value (not nullable)"))
        if rule.kind == "numeric":
            found += _numeric_reasons(raw, rule)
        elif rule.kind == "date":
            codes, uniques = distinct_codes(raw)
            bad = np.array([as_datetime(v) is None for v in uniques], dtype=bool)
            invalid = (codes >= 0) & np.append(bad, False)[codes]
            found.append((invalid, raw, "{v!r} is not an ISO date (YYYY-MM-DD[THH:MM[:SS]])"))
        elif rule.allowed is not None:
            # Check each distinct value once: a million rows hold a handful of categories.
            codes, uniques = distinct_codes(raw)
            bad = ~pd.Index(uniques.astype(str)).isin(rule.allowed)
            unknown = (codes >= 0) & np.append(bad, False)[codes]
            found.append((unknown, raw, "{v!r} is not one of " + ", ".join(rule.allowed)))
        for mask, values, template in found:
            for i in np.flatnonzero(mask):  # format messages for flagged rows only
                v = values.iat[i] if isinstance(values, pd.Series) else values[i]
                if isinstance(v, str) and len(v) > SHOWN_VALUE_CHARS:
                    v = v[:SHOWN_VALUE_CHARS] + "..."
                reasons[int(i)].append(f"{rule.name}: " + template.format(v=v))
    return dict(reasons)
