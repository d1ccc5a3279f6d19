"""The request model and frame checks are derived from the domain rules; warnings from the
training range."""

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from tabml.data.profile import load_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.scoring.inputs import InputRules
from tabml.scoring.metadata import TrainingStatistics
from tabml.scoring.range_warnings import RangeWarnings
from tabml.scoring.rules import DomainRule, rules_from_json, rules_to_json
from tabml.serving.request_schema import record_model, request_model


def check_frame(frame: pd.DataFrame, rules) -> list[list[str]]:
    """Per row of `frame`, the reasons it breaks the rules (the runtime's input path)."""
    problems = InputRules(tuple(rules)).read(frame).problems
    return [problems.get(i, []) for i in range(len(frame))]


@pytest.fixture(scope="module")
def rules():
    profile = load_profile("penguins")
    return domain_rules(profile, load_schema(profile))


def errors(model, body) -> list[tuple]:
    try:
        model.model_validate(body)
    except ValidationError as err:
        return [(e["loc"], e["type"]) for e in err.errors()]
    return []


def test_rules_survive_json_without_none(rules):
    as_json = [{k: v for k, v in d.items() if v is not None} for d in rules_to_json(rules)]
    assert rules_from_json(as_json) == rules


def test_request_model_schema_comes_from_the_rules(rules):
    schema = record_model(rules).model_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {r.name for r in rules}
    island = schema["properties"]["island"]
    assert island["enum"] == ["Biscoe", "Dream", "Torgersen"]
    mass = schema["properties"]["body_mass_g"]["anyOf"][0]  # nullable: number or null
    assert (mass["minimum"], mass["maximum"]) == (2000.0, 7500.0)


def test_a_changed_rule_changes_the_request_model():
    rule = DomainRule("size", "numeric", nullable=False, minimum=0.0, maximum=1.0)
    model = request_model([rule], max_records=2)
    assert errors(model, {"records": [{"size": 0.5}]}) == []
    assert errors(model, {"records": [{"size": 1.5}]}) == [
        (("records", 0, "size"), "less_than_equal")
    ]
    assert errors(model, {"records": [{"size": None}]})[0][1] == "float_type"
    assert errors(model, {"records": [{"size": 0.1}] * 3}) == [(("records",), "too_long")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"bill_length_mm": "forty-eight"}, ("bill_length_mm", "float_type")),
        ({"bill_length_mm": True}, ("bill_length_mm", "float_type")),
        ({"bill_length_mm": math.nan}, ("bill_length_mm", "finite_number")),
        ({"bill_length_mm": math.inf}, ("bill_length_mm", "finite_number")),
        ({"bill_length_mm": 19.9}, ("bill_length_mm", "greater_than_equal")),
        ({"island": "Mars"}, ("island", "literal_error")),
        ({"island": None}, ("island", "literal_error")),
        ({"colour": "blue"}, ("colour", "extra_forbidden")),
    ],
)
def test_request_model_rejects(rules, change, expected, good_record):
    model = request_model(rules, max_records=10)
    name, kind = expected
    assert errors(model, {"records": [{**good_record, **change}]}) == [(("records", 0, name), kind)]


def test_request_model_converts_numbers_written_as_text_as_batch_does(rules, good_record):
    model = request_model(rules, max_records=10)
    body = {"records": [{**good_record, "bill_length_mm": " 48.6 "}]}
    record = model.model_validate(body).records[0].model_dump(by_alias=True)
    assert record["bill_length_mm"] == 48.6
    frame = pd.DataFrame([{**good_record, "bill_length_mm": " 48.6 "}])
    assert check_frame(frame, rules) == [[]]
    # converted, then checked: still out of range
    too_short = {"records": [{**good_record, "bill_length_mm": "19.9"}]}
    assert errors(model, too_short) == [(("records", 0, "bill_length_mm"), "greater_than_equal")]


def test_request_model_accepts_nulls_and_integers(rules, good_record):
    model = request_model(rules, max_records=10)
    body = {"records": [{**good_record, "sex": None, "bill_length_mm": None, "body_mass_g": 5000}]}
    record = model.model_validate(body).records[0].model_dump(by_alias=True)
    assert record["body_mass_g"] == 5000.0 and record["sex"] is None
    assert errors(model, {"records": []}) == [(("records",), "too_short")]
    assert errors(model, {"records": [good_record], "extra": 1}) == [
        (("extra",), "extra_forbidden")
    ]


def test_check_frame_gives_reasons_per_row(rules, good_record):
    frame = pd.DataFrame(
        [
            good_record,
            {**good_record, "island": "Mars", "bill_depth_mm": 5.0},
            {**good_record, "bill_length_mm": "x", "flipper_length_mm": np.inf, "island": None},
            {**good_record, "sex": None, "bill_length_mm": None},
        ]
    ).assign(species="Adelie")  # columns outside the rules are fine in a table
    reasons = check_frame(frame, rules)
    assert reasons[0] == [] and reasons[3] == []
    assert reasons[1] == [
        "bill_depth_mm: 5.0 < minimum 10.0",
        "island: 'Mars' is not one of Biscoe, Dream, Torgersen",
    ]
    assert "bill_length_mm: 'x' is not a number" in reasons[2]
    assert "flipper_length_mm: inf is not finite" in reasons[2]
    assert "island: missing value (not nullable)" in reasons[2]


def test_check_frame_and_request_model_agree(rules, good_record):
    model = request_model(rules, max_records=10)
    cases = [good_record, {**good_record, "body_mass_g": 7600.0}, {**good_record, "sex": "other"},
             {**good_record, "bill_depth_mm": 30.0}, {**good_record, "sex": None}]  # fmt: skip
    reasons = check_frame(pd.DataFrame(cases), rules)
    for case, found in zip(cases, reasons, strict=True):
        assert bool(found) == bool(errors(model, {"records": [case]})), case


def test_check_frame_reads_categorical_columns_alike(rules, good_record):
    """Batch scoring reads categorical features as pandas categoricals: same reasons."""
    odd = [{"island": "Mars"}, {"sex": None}, {"island": None}]
    frame = pd.DataFrame([good_record, *({**good_record, **o} for o in odd)])
    categorical = frame.astype({"island": "category", "sex": "category"})
    assert check_frame(categorical, rules) == check_frame(frame, rules)
    assert check_frame(categorical, rules)[1] == [
        "island: 'Mars' is not one of Biscoe, Dream, Torgersen"
    ]


def test_check_frame_names_a_missing_column(rules, good_record):
    frame = pd.DataFrame([good_record]).drop(columns="sex")
    assert check_frame(frame, rules) == [["sex: missing column"]]


def _stats(numeric: dict, categorical: dict) -> TrainingStatistics:
    one = {"mean": 0.0, "std": 1.0, "missing_share": 0.0, "quantiles": {}, "percentiles": []}
    bins = {"edges": [], "shares": [1.0]}
    return TrainingStatistics(
        rows=10,
        target="y",
        numeric={n: {**one, **b, "bins": bins} for n, b in numeric.items()},
        categorical={
            n: {"categories": c, "shares": {x: 1 / len(c) for x in c}, "missing_share": 0.0}
            for n, c in categorical.items()
        },
    )


STATS = _stats({"body_mass_g": {"min": 2700.0, "max": 6300.0}}, {"island": ["Biscoe", "Dream"]})
RULES = (
    DomainRule("body_mass_g", "numeric", True),
    DomainRule("island", "categorical", True),
)


def warnings_for(rows) -> list[list[dict]]:
    return RangeWarnings(STATS).for_inputs(InputRules(RULES).read(rows))


def test_training_range_warnings():
    def warn(record):
        return warnings_for([record])[0]

    assert warn({"body_mass_g": 4000.0, "island": "Dream"}) == []
    assert warn({"body_mass_g": None, "island": None}) == []  # missing is not out of range
    (mass,) = warn({"body_mass_g": 7000.0, "island": "Biscoe"})
    assert mass["feature"] == "body_mass_g" and mass["training_range"] == [2700.0, 6300.0]
    assert mass["message"] == "body_mass_g=7000.0 is outside the training range [2700.0, 6300.0]"
    (island,) = warn({"body_mass_g": 2700.0, "island": "Torgersen"})  # bounds are inclusive
    assert island["feature"] == "island" and island["training_categories"] == ["Biscoe", "Dream"]


def test_training_range_warnings_for_a_frame():
    frame = pd.DataFrame({"body_mass_g": [4000.0, np.nan, 9000.0], "island": ["Dream", None, "X"]})
    found = warnings_for(frame)
    assert [len(w) for w in found] == [0, 0, 2]
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    assert warnings_for(records) == found  # records and frames warn alike
