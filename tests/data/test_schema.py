"""The domain schema accepts the real data and rejects each kind of corruption."""

import numpy as np
import pandas as pd
import pytest

from tabml.data.schema import domain_rules
from tabml.data.validation import (
    RawDataError,
    read_raw,
    render_report,
    validate_raw,
)


def _check(frame, schema, profile, min_rows=20):
    return validate_raw(frame, schema, profile.target, min_rows, "test.csv")


def _failure(report, column):
    matches = [f for f in report.failures if f.column == column]
    assert matches, f"no failure for {column}: {report.failures}"
    return matches[0]


def test_real_data_is_accepted(raw_penguins, schema, profile):
    clean, report = _check(raw_penguins, schema, profile)
    assert report.ok and clean is not None
    assert report.rows_valid == len(raw_penguins) == 344
    assert clean["body_mass_g"].dtype == np.float64


def test_missing_column_is_reported(raw_penguins, schema, profile):
    _, report = _check(raw_penguins.drop(columns=["flipper_length_mm"]), schema, profile)
    assert not report.ok
    assert any("flipper_length_mm" in str(f.failing_values) for f in report.failures)
    assert any(f.check == "column_in_dataframe" for f in report.failures)


def test_wrong_dtype_names_column_value_and_row(raw_penguins, schema, profile):
    bad = raw_penguins.astype({"body_mass_g": object})
    bad.loc[5, "body_mass_g"] = "heavy"
    _, report = _check(bad, schema, profile)
    failure = _failure(report, "body_mass_g")
    assert "heavy" in failure.failing_values
    assert 5 in failure.rows


def test_out_of_range_value_is_reported(raw_penguins, schema, profile):
    bad = raw_penguins.copy()
    bad.loc[[10, 20], "flipper_length_mm"] = [999.0, -1.0]
    _, report = _check(bad, schema, profile)
    failure = _failure(report, "flipper_length_mm")
    assert "in_range" in failure.check
    assert failure.rows == [10, 20] and sorted(failure.failing_values) == [-1.0, 999.0]


def test_unknown_category_is_reported(raw_penguins, schema, profile):
    bad = raw_penguins.copy()
    bad.loc[3, "island"] = "Atlantis"
    _, report = _check(bad, schema, profile)
    failure = _failure(report, "island")
    assert "isin" in failure.check and failure.failing_values == ["Atlantis"]
    assert failure.rows == [3]


def test_null_in_non_nullable_column_is_reported(raw_penguins, schema, profile):
    bad = raw_penguins.copy()
    bad.loc[8, "island"] = None
    _, report = _check(bad, schema, profile)
    assert _failure(report, "island").rows == [8]


def test_missing_target_rows_are_dropped_and_counted(raw_penguins, schema, profile):
    bad = raw_penguins.copy()
    bad.loc[[0, 1, 2], "species"] = None
    clean, report = _check(bad, schema, profile)
    assert report.ok
    assert report.rows_missing_target == 3
    assert len(clean) == len(raw_penguins) - 3


def test_too_few_rows_fail(raw_penguins, schema, profile):
    _, report = _check(raw_penguins.head(5), schema, profile)
    assert not report.ok
    assert "at least 20" in report.failures[0].check


def test_empty_and_garbage_files_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(RawDataError, match="empty"):
        read_raw(empty)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(RawDataError, match="not a readable CSV"):
        read_raw(garbage)


def test_header_only_file_fails_validation(tmp_path, schema, profile, raw_penguins):
    path = tmp_path / "header.csv"
    path.write_text(",".join(raw_penguins.columns) + "\n")
    _, report = _check(read_raw(path), schema, profile)
    assert not report.ok


def test_report_is_human_readable(raw_penguins, schema, profile):
    bad = raw_penguins.copy()
    bad.loc[3, "island"] = "Atlantis"
    _, report = _check(bad, schema, profile)
    text = render_report(report)
    assert "FAILED" in text and "island" in text and "'Atlantis'" in text and "| 3 |" in text


def test_domain_rules_follow_the_schema(profile, schema):
    rules = {r.name: r for r in domain_rules(profile, schema)}
    assert list(rules) == profile.features.all
    assert rules["island"].allowed == ("Biscoe", "Dream", "Torgersen")
    assert rules["sex"].nullable and not rules["island"].nullable
    assert (rules["body_mass_g"].minimum, rules["body_mass_g"].maximum) == (2000.0, 7500.0)


def test_schema_covers_every_real_value_with_headroom(raw_penguins, profile):
    # The hard rules are physical limits, wider than anything observed.
    for name in profile.features.numeric:
        assert pd.notna(raw_penguins[name]).sum() > 300
