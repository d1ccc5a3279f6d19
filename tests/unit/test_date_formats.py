"""Dates in the formats people write: bootstrap recognises them, validate checks them, the API
and batch parse them with the declared format, and a model with dates answers (regression
and explanations included)."""

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from tabml.data.date_checks import date_failures
from tabml.data.date_detection import guess_format
from tabml.data.profile import DatasetProfile
from tabml.data.profile_draft import write_profile
from tabml.model.features import build_preprocessor, model_frame
from tabml.packaging.onnx_regression import check_regression_parity
from tabml.scoring.date_formats import ISO8601, format_pattern
from tabml.scoring.explain import Explainer
from tabml.scoring.inputs import InputRules
from tabml.scoring.rules import DomainRule
from tabml.serving.request_schema import request_model
from testkit import ROOT
from testkit.models import packaged_from


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2020-01-01", "2021-12-31"], "%Y-%m-%d"),
        (["2012/01/01", "2012/11/30"], "%Y/%m/%d"),
        (["31.12.2020", "1.2.2021"], "%d.%m.%Y"),
        (["12/31/2020", "01/02/2021"], "%m/%d/%Y"),  # a day above 12: month first, surely
        (["31/12/2020", "01/02/2021"], "%d/%m/%Y"),
        (["2020-01-01 10:00", "2020-01-02 11:30"], "%Y-%m-%d %H:%M"),
        (["2020-01-01T10:00:00+02:00", "2020-01-02T23:59:00Z"], "%Y-%m-%dT%H:%M:%S%z"),
        (["2020-01-01", "2020-01-02T10:00:00"], ISO8601),  # mixed shapes, all ISO 8601
    ],
)
def test_bootstrap_recognises_common_layouts(values, expected):
    assert guess_format(values).format == expected


@pytest.mark.parametrize("values", [["hello", "world"], ["2020-01-01", "someday"], []])
def test_text_that_is_not_dates_in_one_format_is_no_date(values):
    assert guess_format(values) is None


def test_an_ambiguous_column_is_reported_not_guessed():
    guess = guess_format(["01/02/2020", "03/04/2021"])
    assert guess.format is None and guess.ambiguous == ("%m/%d/%Y", "%d/%m/%Y")
    assert "MM/DD/YYYY and as DD/MM/YYYY" in guess.why_not()


def _dated_csv(tmp_path, when: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=len(when)), "when": when})
    frame["y"] = np.where(rng.random(len(when)) > 0.5, "a", "b")
    frame.to_csv(tmp_path / "t.csv", index=False)
    return frame


def test_a_slash_date_is_a_date_not_an_identifier(tmp_path):
    """`2012/01/01` (a new day in every row) was dropped as an identifier."""
    days = pd.date_range("2012-01-01", periods=60, freq="3D").strftime("%Y/%m/%d").tolist()
    _dated_csv(tmp_path, days)
    summary = write_profile(tmp_path / "t.csv", "t", "y", tmp_path)
    assert summary.dates == {"when": {"format": "%Y/%m/%d", "parts": ["year", "day_of_year"]}}
    assert "when" not in summary.dropped
    profile = yaml.safe_load((tmp_path / "t.yaml").read_text())
    assert profile["features"]["dates"]["when"]["format"] == "%Y/%m/%d"


def test_bootstrap_leaves_an_ambiguous_date_out_and_says_why(tmp_path):
    days = [f"{m:02d}/{d:02d}/2020" for m in range(1, 13) for d in range(1, 6)]
    _dated_csv(tmp_path, days)
    summary = write_profile(tmp_path / "t.csv", "t", "y", tmp_path)
    assert summary.dates == {}
    assert summary.dropped["when"].startswith("ambiguous date: every value reads as MM/DD/YYYY")


def test_validate_lists_values_not_in_the_format_and_stops_when_none_is():
    frame = pd.DataFrame({"a": ["2012/01/01", "2012/02/30", None], "b": ["2012/01/01"] * 3})
    failures, fatal = date_failures(frame, {"a": "%Y/%m/%d", "b": "%Y/%m/%d"})
    assert fatal is None
    [failure] = failures
    assert (failure.column, failure.count, failure.failing_values, failure.rows) == (
        "a", 1, ["2012/02/30"], [1])  # fmt: skip
    assert failure.check == "date in the format YYYY/MM/DD"
    _, fatal = date_failures(frame, {"b": ISO8601})  # declared as ISO dates, written with /
    assert fatal.startswith("column 'b': no value is a date in the format ISO 8601")
    assert "its values look like YYYY/MM/DD" in fatal and "features.dates.b.format" in fatal


def test_the_validate_stage_stops_with_one_line_for_a_wrong_format(tmp_path):
    """Declaring slash dates as ISO dates passed validate and crashed train with a raw
    `ValueError: zero-size array` traceback; now validate stops with one line."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "data/raw").mkdir(parents=True)
    days = pd.date_range("2012-01-01", periods=40, freq="5D").strftime("%Y/%m/%d")
    frame = pd.DataFrame({"x": np.arange(40.0), "when": days, "y": ["a", "b"] * 20})
    frame.to_csv(tmp_path / "data/raw/dataset.csv", index=False)
    profile = {"name": "t", "source": {"path": "t.csv"}, "target": "y",
               "features": {"numeric": ["x"], "dates": {"when": ["year"]}}}  # fmt: skip
    (tmp_path / "configs/t.yaml").write_text(yaml.safe_dump(profile))
    (tmp_path / "configs/t.schema.yaml").write_text(
        "schema_type: dataframe\nversion: 0.0.0\ncolumns:\n"
        "  x: {dtype: float64, nullable: false, coerce: true}\n"
        "  when: {dtype: str, nullable: false, coerce: true}\n"
        "  y: {dtype: str, nullable: false, coerce: true}\n"
    )
    (tmp_path / "params.yaml").write_text("data:\n  profile: t\n")
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "tabml.stages.validate"], cwd=tmp_path,
                            env=env, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: column 'when': no value is a date in the format ISO 8601")
    assert "YYYY/MM/DD" in line
    assert "FAILED" in (tmp_path / "reports/validation/report.md").read_text()


RULES = (
    DomainRule("x", "numeric", False),
    DomainRule("when", "date", False, parts=("year", "day_of_year"), format="%d.%m.%Y"),
)


def test_the_api_and_batch_parse_the_declared_format_and_name_it_when_a_value_is_not():
    request = request_model(RULES, 10)
    ok = request.model_validate({"records": [{"x": 1.0, "when": "27.11.2009"}]})
    assert ok.records[0].model_dump(by_alias=True)["when"] == "27.11.2009"
    with pytest.raises(ValidationError) as err:
        request.model_validate({"records": [{"x": 1.0, "when": "2009-11-27"}]})
    [error] = err.value.errors()
    assert error["loc"] == ("records", 0, "when")
    assert "'2009-11-27' is not a date in the format DD.MM.YYYY" in error["msg"]
    frame = pd.DataFrame({"x": [1.0, 1.0], "when": ["27.11.2009", "2009-11-27"]})
    inputs = InputRules(RULES).read(frame)
    assert inputs.problems == {1: ["when: '2009-11-27' is not a date in the format DD.MM.YYYY"]}
    assert inputs.numbers["when (day_of_year)"][0] == dt.date(2009, 11, 27).timetuple().tm_yday
    schema = request.model_json_schema()
    assert schema["$defs"]["Record"]["properties"]["when"]["pattern"] == format_pattern("%d.%m.%Y")


def test_a_regression_model_with_a_date_answers(tmp_path):
    """A regression profile with a date feature answered 500 (`KeyError: 'Year (year)'`):
    its scorer never derived the date's numbers."""
    rng = np.random.default_rng(1)
    days = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 2000, 300), "D")
    frame = pd.DataFrame({"x": rng.normal(size=300), "Year": days.strftime("%d/%m/%Y")})
    frame["price"] = 3.0 * frame["x"] + (days.year - 2010) * 2.0 + rng.normal(0, 0.1, 300)
    profile = DatasetProfile(
        name="p", source={"path": "p.csv"}, target="price", task="regression",
        features={"numeric": ["x"], "dates": {"Year": {"format": "%d/%m/%Y", "parts": ["year"]}}},
    )  # fmt: skip
    X = model_frame(frame, profile.features)
    pipeline = Pipeline([("preprocess", build_preprocessor(profile.features)), ("model", Ridge())])
    pipeline.fit(X, frame["price"].to_numpy())
    model = packaged_from(pipeline, profile, frame)
    assert check_regression_parity(pipeline, model, frame, profile.features, 1e-3, 1e-5).ok
    records = [{"x": 0.5, "Year": "15/06/2013"}, {"x": -1.0, "Year": "01/01/2011"}]
    answers = model.score(records)
    expected = pipeline.predict(model_frame(pd.DataFrame(records), profile.features))
    assert [a["price"] for a in answers] == pytest.approx(expected, abs=1e-3)
    for answer, e in zip(answers, Explainer(model).explain(model.inputs(records), top=2)):
        total = (
            e["base_value"]
            + e["other_features"]
            + sum(c["contribution"] for c in e["contributions"])
        )
        assert total == pytest.approx(answer["price"], rel=1e-5)
