"""Bootstrap a dataset profile and a pandera schema from your own CSV.

      python -m tabml.cli bootstrap data/external/my.csv --name mydata --target label

writes configs/mydata.yaml and configs/mydata.schema.yaml for a human to review: the
numeric ranges it writes are the observed min/max, which you should widen to what is
physically possible (the training range is learnt separately, for warnings).
"""

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from tabml import atomic, paths
from tabml.data.profile import ProfileError
from tabml.data.task import infer_task
from tabml.tables import sha256_of

MAX_CATEGORIES = 50  # text columns with more distinct values are not used as features


def infer_schema(frame: pd.DataFrame, target: str) -> tuple[pa.DataFrameSchema, dict]:
    """A pandera schema of the observed data and the feature lists it suggests."""
    columns, numeric, categorical = {}, [], []
    for name in frame.columns:
        values = frame[name]
        nullable = bool(values.isna().any()) or name == target
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            low, high = float(values.min()), float(values.max())
            columns[name] = pa.Column(
                "float64", pa.Check.in_range(low, high), nullable=nullable, coerce=True
            )
            numeric.append(name)
        else:
            observed = sorted(str(v) for v in values.dropna().unique())
            checks = [pa.Check.isin(observed)] if len(observed) <= MAX_CATEGORIES else []
            columns[name] = pa.Column("str", checks, nullable=nullable, coerce=True)
            if checks:
                categorical.append(name)
    features = {
        "numeric": [c for c in numeric if c != target],
        "categorical": [c for c in categorical if c != target],
    }
    return pa.DataFrameSchema(columns, coerce=True, strict=False), features


def write_profile(csv: Path, name: str, target: str, configs_dir: Path = paths.CONFIGS) -> None:
    """Write configs/<name>.yaml and configs/<name>.schema.yaml from `csv`."""
    frame = pd.read_csv(csv)
    if target not in frame.columns:
        raise ProfileError(f"{csv} has no column {target!r}; columns: {list(frame.columns)}")
    schema, features = infer_schema(frame, target)
    profile = {
        "name": name,
        "description": f"Bootstrapped from {csv}; review before use.",
        "source": {"path": str(csv), "sha256": sha256_of(csv)},
        "target": target,
        "task": infer_task(frame[target]),
        "features": features,
    }
    atomic.write_text(configs_dir / f"{name}.yaml", yaml.safe_dump(profile, sort_keys=False))
    atomic.write_text(configs_dir / f"{name}.schema.yaml", schema.to_yaml())
