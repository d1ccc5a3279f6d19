"""Dates as a declared transformation: one derivation for training, serving and batch scoring."""

import datetime as dt
import math
from typing import get_args

import numpy as np
import pandas as pd
import pydantic
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tabml.data.profile import DatasetProfile, DatePart, Features
from tabml.data.schema import domain_rules
from tabml.model.features import build_preprocessor, model_frame
from tabml.model.training_stats import training_stats
from tabml.packaging.onnx_export import check_parity
from tabml.scoring.dates import PARTS, part_column
from tabml.scoring.explain import Explainer
from tabml.scoring.inputs import InputRules
from tabml.scoring.metadata import TrainingStatistics
from tabml.scoring.rules import DomainRule, rules_from_json, rules_to_json
from tabml.serving.request_schema import request_model
from testkit.models import packaged_from

ALL_PARTS = list(PARTS)


def reference(day: str) -> dict:
    """The declared numbers of one ISO date, by hand with the standard library."""
    when = dt.datetime.fromisoformat(day)
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return {
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "day_of_year": when.timetuple().tm_yday,
        "day_of_week": when.weekday(),
        "hour": when.hour,
        "days_since_epoch": (when - dt.datetime(1970, 1, 1)).total_seconds() / 86400,
    }


def test_the_profile_lists_exactly_the_parts_the_runtime_computes():
    assert set(get_args(DatePart)) == set(PARTS)
    features = Features(numeric=["a"], dates={"when": ["year", "hour"], "w2": ["month"]})
    assert features.model_numeric == ["a", "when (year)", "when (hour)", "w2 (month)"]
    assert features.all == ["a", "when", "w2"]
    assert features.dates["when"].format == "ISO8601"  # parts alone: ISO 8601 dates


def derived(data, parts=ALL_PARTS, rule_format=None):
    """The date parts the runtime's input path derives from `data` (records or a frame)."""
    rule = DomainRule("when", "date", True, parts=tuple(parts), format=rule_format)
    inputs = InputRules((rule,)).read(data)
    return {p: list(inputs.numbers[part_column("when", p)]) for p in parts}, inputs.problems


def test_a_date_without_parts_or_with_an_unknown_part_is_refused():
    with pytest.raises(pydantic.ValidationError, match="list the numbers"):
        Features(numeric=["a"], dates={"when": []})
    with pytest.raises(pydantic.ValidationError, match=r"dates\.when"):
        Features(numeric=["a"], dates={"when": ["fortnight"]})


DAYS = ["2009-11-27", "2012-02-29", "2009-11-27T23:30:00", "2009-11-27T23:30:00-02:00", None]


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for part in a:
        np.testing.assert_array_equal(np.array(a[part]), np.array(b[part]), err_msg=part)


def test_frame_and_records_derive_the_hand_computed_numbers():
    frame = pd.DataFrame({"when": DAYS})
    from_frame, problems = derived(frame)
    from_records, _ = derived([{"when": d} for d in DAYS])
    assert problems == {}
    for i, day in enumerate(DAYS):
        for part in ALL_PARTS:
            value = from_frame[part][i]
            if day is None:
                assert math.isnan(value) and math.isnan(from_records[part][i])
                continue
            assert value == pytest.approx(reference(day)[part], abs=1e-9), (day, part)
            assert from_records[part][i] == value  # serving == batch, to the bit
    # -02:00 is converted to UTC: the next day, 01:30
    assert from_frame["day"][3] == 28 and from_frame["hour"][3] == 1


def test_a_categorical_column_gives_the_same_numbers():
    plain = pd.DataFrame({"when": DAYS * 3})
    categorical = plain.astype({"when": "category"})
    assert_same(derived(plain)[0], derived(categorical)[0])


def test_a_datetime_column_gives_the_same_numbers_as_its_iso_strings():
    texts = pd.DataFrame({"when": ["2009-11-27", "2012-02-29", "2009-11-27T23:30:00", None]})
    typed = texts.assign(when=pd.to_datetime(texts["when"], format="ISO8601"))
    numbers, problems = derived(typed)
    assert_same(numbers, derived(texts)[0])
    assert problems == {}


RULES = [
    DomainRule("x", "numeric", False, minimum=0.0, maximum=10.0),
    DomainRule("when", "date", False, parts=("year", "day_of_year")),
]


@pytest.mark.parametrize("day", ["2031-06-01", "2009-11-27T10:00:00Z", "2009-11-27 10:00"])
def test_the_request_model_accepts_any_iso_date(day):
    request = request_model(RULES, 10)
    parsed = request.model_validate({"records": [{"x": 1.0, "when": day}]})
    assert parsed.records[0].model_dump(by_alias=True)["when"] == day  # the raw string


@pytest.mark.parametrize("day", ["2009-02-30", "27/11/2009", "2009-13-01", "tomorrow", 2009])
def test_the_request_model_refuses_what_is_not_an_iso_date(day):
    with pytest.raises(pydantic.ValidationError, match="when"):
        request_model(RULES, 10).model_validate({"records": [{"x": 1.0, "when": day}]})


def test_batch_checks_reject_invalid_dates_but_not_later_ones():
    frame = pd.DataFrame({"x": [1.0, 1.0, 1.0], "when": ["2031-06-01", "2009-02-30", None]})
    problems = InputRules(tuple(RULES)).read(frame).problems
    assert 0 not in problems
    assert problems[1] == [
        "when: '2009-02-30' is not a date in the format ISO 8601 "
        "(YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss][+hh:mm])"
    ]
    assert problems[2] == ["when: missing value (not nullable)"]


def test_rules_round_trip_and_a_model_without_dates_keeps_its_metadata(profile, schema):
    assert rules_from_json(rules_to_json(RULES)) == RULES
    # Penguins has no dates: its rules (in the model's metadata) carry no date keys.
    penguins = rules_to_json(domain_rules(profile, schema))
    assert all("parts" not in rule and "format" not in rule for rule in penguins)


def test_penguins_training_stats_have_no_dates_key(profile, raw_penguins):
    assert "dates" not in training_stats(raw_penguins.dropna(subset=["species"]), profile)


@pytest.fixture(scope="module")
def dated():
    """A small dataset whose label depends on the day of the year, and its profile."""
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2007-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, 300), "D")
    frame = pd.DataFrame({"x": rng.normal(size=300), "when": days.strftime("%Y-%m-%d")})
    frame["label"] = np.where(days.dayofyear > 182, "late", "early")
    profile = DatasetProfile(
        name="dated",
        source={"path": "dated.csv"},
        target="label",
        features={"numeric": ["x"], "dates": {"when": ["year", "day_of_year"]}},
    )
    return frame, profile


def test_training_serving_and_batch_see_the_same_numbers(dated):
    frame, profile = dated
    model_input = model_frame(frame, profile.features)
    assert list(model_input.columns) == ["x", "when (year)", "when (day_of_year)"]
    expected = [reference(d)["day_of_year"] for d in frame["when"]]
    assert model_input["when (day_of_year)"].tolist() == expected
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(profile.features)), ("model", LogisticRegression())]
    ).fit(model_input, frame["label"].to_numpy(dtype=object))
    assert pipeline.score(model_input, frame["label"]) > 0.9  # the date is what it learns from
    model = packaged_from(pipeline, profile, frame)
    assert check_parity(pipeline, model, frame, profile.features, 1e-5).ok
    stats = training_stats(frame, profile)
    assert stats["numeric"]["when (year)"]["max"] == 2009.0
    assert stats["dates"] == {"when": {"format": "ISO8601", "parts": ["year", "day_of_year"]}}
    later = {"x": 0.0, "when": "2012-11-20"}
    [answer] = model.score([later])
    assert answer["label"] == "late"
    assert [w["feature"] for w in answer["warnings"]] == ["when (year)"]
    assert answer["warnings"][0]["value"] == 2012.0
    # Batch scoring's path: the frame, with the same derivation, gives the same probabilities.
    _, proba = model.predict(model.inputs(pd.DataFrame([later])))
    assert proba[0].tolist() == list(answer["probabilities"].values())


def test_explanations_of_a_date_feature_add_up_to_the_answer(dated):
    """The explainer moves a date's parts together, as one feature (it answered 500)."""
    frame, profile = dated
    model_input = model_frame(frame, profile.features)
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(profile.features)), ("model", LogisticRegression())]
    ).fit(model_input, frame["label"].to_numpy(dtype=object))
    model = packaged_from(pipeline, profile, frame)
    records = [{"x": 0.3, "when": "2008-10-01"}, {"x": -1.0, "when": "2009-02-01T10:00:00Z"}]
    answers = model.score(records)
    for answer, found in zip(answers, Explainer(model).explain(model.inputs(records), top=2)):
        total = found["base_value"] + found["other_features"]
        total += sum(c["contribution"] for c in found["contributions"])
        assert total == pytest.approx(answer["probabilities"][found["class"]], abs=1e-6)
        assert {c["feature"] for c in found["contributions"]} == {"x", "when"}


def test_drift_reads_dates_from_the_iso_strings_the_service_logs(dated):
    from tabml.monitoring.drift import drift_report
    from tabml.params import DriftParams

    frame, profile = dated
    stats = TrainingStatistics.model_validate(training_stats(frame, profile))
    same = drift_report(frame[["x", "when"]], stats, DriftParams())
    assert same["features"]["when (year)"]["verdict"] == "ok"
    later = frame[["x", "when"]].assign(when="2012-11-20")
    moved = drift_report(later, stats, DriftParams())
    assert "when (year)" in moved["drifted"]
