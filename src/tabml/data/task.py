"""Which task a target column asks for: classification (labels) or regression (numbers)."""

import pandas as pd

# A numeric target with more distinct values than both limits is a quantity, not a code:
# 3 species or 0/1 flags are labels; 300 body masses are numbers.
MIN_DISTINCT_VALUES = 20
MIN_DISTINCT_SHARE = 0.05


def is_quantity(target: pd.Series) -> bool:
    """A numeric target with many distinct values: more than `MIN_DISTINCT_VALUES` and more
    than `MIN_DISTINCT_SHARE` of the labelled rows."""
    values = target.dropna()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    distinct = values.nunique()
    many = distinct > MIN_DISTINCT_VALUES and distinct > MIN_DISTINCT_SHARE * len(values)
    return numeric and many


def infer_task(target: pd.Series) -> str:
    """`regression` for a quantity (`is_quantity`), else `classification`."""
    return "regression" if is_quantity(target) else "classification"
