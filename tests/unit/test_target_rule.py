"""The profile's `target_rule`: a label derived from a numeric column, generically."""

import pandas as pd
import pytest

from tabml.data.profile import DatasetProfile, TargetRule
from tabml.data.validation import derive_target, drop_missing_target

RULE = TargetRule(column="arr_delay", greater_than=15, labels=("on_time", "late"))


def test_derive_target_labels_by_threshold_and_leaves_missing_unlabelled() -> None:
    frame = pd.DataFrame({"arr_delay": [-5.0, 15.0, 15.5, None, 120.0]})
    out = derive_target(frame, "arrival", RULE)
    assert out["arrival"].tolist()[:3] == ["on_time", "on_time", "late"]
    assert pd.isna(out["arrival"].iloc[3]) and out["arrival"].iloc[4] == "late"
    kept, dropped = drop_missing_target(out, "arrival")
    assert dropped == 1 and len(kept) == 4


def test_non_numeric_source_keeps_a_label_so_the_schema_reports_the_row() -> None:
    frame = pd.DataFrame({"arr_delay": ["10", "oops", "30"]})
    out = derive_target(frame, "arrival", RULE)
    assert out["arrival"].notna().all()
    assert out["arrival"].tolist() == ["on_time", "on_time", "late"]


def test_no_rule_or_missing_source_column_changes_nothing() -> None:
    frame = pd.DataFrame({"x": [1, 2]})
    assert derive_target(frame, "arrival", None) is frame
    assert "arrival" not in derive_target(frame, "arrival", RULE).columns


def test_rule_column_may_not_be_a_feature() -> None:
    with pytest.raises(ValueError, match=r"target_rule\.column"):
        DatasetProfile(
            name="f",
            source={"path": "x.csv"},
            target="arrival",
            features={"numeric": ["arr_delay"]},
            target_rule=RULE,
        )
