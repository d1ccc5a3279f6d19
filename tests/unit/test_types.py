"""Types normalised by one rule on every surface (tabml.scoring.values), or refused with a reason.

Each case sends the same inputs as a JSON record, a CSV file and a parquet file whose column
has another physical type, and checks the answers are identical (and a value no rule converts
is a 400 and a reject with the same reason).
"""

import json
import sqlite3

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tabml.batch.score import score_file
from tabml.data.profile import DatasetProfile
from tabml.model.features import build_preprocessor, model_frame
from tabml.scoring import values
from tabml.scoring.rules import DomainRule
from tabml.serving.request_schema import request_model
from testkit.models import packaged_from


def _scored(path, model, tmp_path, name: str) -> list[tuple]:
    db = tmp_path / f"{name}.db"
    result = score_file(path, f"sqlite:///{db}", model)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT * FROM prediction_rows ORDER BY id").fetchall()
        rejects = conn.execute("SELECT input_row, reason FROM rejects").fetchall()
    return [r[2:] for r in rows], rejects, result


def test_bytes_categories_in_parquet_score_exactly_like_text(tmp_path, model, raw_penguins):
    """A parquet file whose categories are BINARY (as some Hive/Spark writers store them)
    passed every check and was scored as unknown categories: every row got other
    probabilities, some another label, silently."""
    frame = raw_penguins.drop(columns=["species"])
    text = pa.Table.from_pandas(frame, preserve_index=False)
    as_bytes = text
    for name in ("island", "sex"):
        column = pa.array([None if v is None else v.encode() for v in text[name].to_pylist()],
                          type=pa.binary())  # fmt: skip
        as_bytes = as_bytes.set_column(as_bytes.schema.get_field_index(name), name, column)
    assert as_bytes.schema.field("island").type == pa.binary()
    pq.write_table(text, tmp_path / "text.parquet")
    pq.write_table(as_bytes, tmp_path / "bytes.parquet")
    expected, no_rejects, _ = _scored(tmp_path / "text.parquet", model, tmp_path, "text")
    got, rejects, result = _scored(tmp_path / "bytes.parquet", model, tmp_path, "bytes")
    assert rejects == no_rejects == [] and result.rows == len(frame)
    assert got == expected  # labels and probabilities, to the bit


def test_bytes_that_are_not_utf8_are_refused_with_a_reason():
    with pytest.raises(values.InvalidValue, match=r"b'\\xff\\xfe' is not UTF-8 text"):
        values.category(b"\xff\xfe")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("48.6", 48.6), (" 1e3 ", 1000.0), (b"2.5", 2.5), (7, 7.0), (np.float32(0.5), 0.5)],
)
def test_numbers_as_text_are_numbers(value, expected):
    assert values.number(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [("abc", "'abc' is not a number"), (True, "True is not a number"),
     ("nan", "'nan' is not a number"), ("inf", "'inf' is not finite")],
)  # fmt: skip
def test_what_is_no_number_is_refused(value, reason):
    with pytest.raises(values.InvalidValue, match=reason):
        values.number(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, "3"), (3.0, "3"), (np.int64(3), "3"), (2.5, "2.5"), ("03", "03"), (b"x", "x"),
     (True, "true"), (np.bool_(False), "false"), (None, None), (np.nan, None)],
)  # fmt: skip
def test_category_values(value, expected):
    assert values.category(value, values.boolean_spelling(["false", "true", "x"])) == expected


def test_numbers_written_as_text_in_parquet_score_like_numbers(tmp_path, model, raw_penguins):
    frame = raw_penguins.drop(columns=["species"]).head(60)
    frame.to_parquet(tmp_path / "numbers.parquet", index=False)
    as_text = frame.assign(
        body_mass_g=frame["body_mass_g"].map(lambda v: None if pd.isna(v) else str(v))
    )
    as_text.loc[3, "body_mass_g"] = "heavy"
    as_text.to_parquet(tmp_path / "text.parquet", index=False)
    stored = pq.read_schema(tmp_path / "text.parquet").field("body_mass_g").type
    assert pa.types.is_string(stored) or pa.types.is_large_string(stored)
    expected, _, _ = _scored(tmp_path / "numbers.parquet", model, tmp_path, "numbers")
    got, rejects, _ = _scored(tmp_path / "text.parquet", model, tmp_path, "text")
    assert rejects == [(3, "body_mass_g: 'heavy' is not a number")]
    assert got == expected[:3] + expected[4:]


@pytest.fixture(scope="module")
def coded():
    """A model with an integer-coded category (`code`), a boolean one (`flag`) and a number."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "x": rng.normal(size=n),
        "code": rng.choice(["1", "2", "3"], n),
        "flag": rng.choice(["true", "false"], n),
    })  # fmt: skip
    logit = frame["x"] + (frame["code"] == "2") * 2.0 - (frame["flag"] == "true") * 1.5
    frame["y"] = np.where(logit > 0, "yes", "no")
    profile = DatasetProfile(
        name="c", source={"path": "c.csv"}, target="y",
        features={"numeric": ["x"], "categorical": ["code", "flag"]},
    )  # fmt: skip
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(profile.features)), ("model", LogisticRegression())]
    ).fit(model_frame(frame, profile.features), frame["y"].to_numpy(dtype=object))
    rules = [
        DomainRule("x", "numeric", True),
        DomainRule("code", "categorical", True, allowed=("1", "2", "3")),
        DomainRule("flag", "categorical", True, allowed=("false", "true")),
    ]
    return packaged_from(pipeline, profile, frame, rules), rules, frame


def test_integer_codes_and_booleans_mean_the_same_on_every_surface(coded, tmp_path):
    model, rules, _ = coded
    text = pd.DataFrame({"x": [0.1, -0.3, 0.7, 0.0], "code": ["1", "2", "3", None],
                         "flag": ["true", "false", "true", "false"]})  # fmt: skip
    # CSV: text as written; parquet: integers (with a gap: floats) and booleans
    text.to_csv(tmp_path / "text.csv", index=False)
    typed = text.assign(
        code=text["code"].map(lambda v: None if v is None else float(v)),
        flag=text["flag"] == "true",
    )
    typed.to_parquet(tmp_path / "typed.parquet", index=False)
    assert pq.read_schema(tmp_path / "typed.parquet").field("flag").type == pa.bool_()
    from_csv, rejects_csv, _ = _scored(tmp_path / "text.csv", model, tmp_path, "csv")
    from_parquet, rejects_parquet, _ = _scored(tmp_path / "typed.parquet", model, tmp_path, "pq")
    assert rejects_csv == rejects_parquet == [] and from_csv == from_parquet
    # JSON: numbers and booleans, through the API's request model, answer the same
    request = request_model(rules, 10)
    body = {
        "records": [
            {"x": 0.1, "code": 1, "flag": True},
            {"x": -0.3, "code": 2.0, "flag": False},
            {"x": 0.7, "code": "3", "flag": True},
            {"x": 0.0, "code": None, "flag": False},
        ]
    }
    records = [r.model_dump(by_alias=True) for r in request.model_validate(body).records]
    assert [r["code"] for r in records] == ["1", "2", "3", None]
    assert [r["flag"] for r in records] == ["true", "false", "true", "false"]
    answers = model.score(records)
    assert [a["y"] for a in answers] == [r[0] for r in from_csv]
    assert [list(a["probabilities"].values()) for a in answers] == [list(r[1:]) for r in from_csv]


def test_a_category_no_rule_converts_is_refused_alike(coded, tmp_path):
    model, rules, _ = coded
    with pytest.raises(ValidationError) as err:
        request_model(rules, 10).model_validate({"records": [{"x": 0.0, "code": 4, "flag": True}]})
    assert err.value.errors()[0]["loc"] == ("records", 0, "code")
    pd.DataFrame({"x": [0.0], "code": [4], "flag": [True]}).to_parquet(tmp_path / "bad.parquet")
    _, rejects, _ = _scored(tmp_path / "bad.parquet", model, tmp_path, "bad")
    assert rejects == [(0, "code: '4' is not one of 1, 2, 3")]


def test_a_category_written_with_a_leading_zero_stays_as_written(tmp_path):
    """validate reads categorical features as text: `01` is not the number 1."""
    from tabml.data.validation import read_raw

    (tmp_path / "raw.csv").write_text("zip,x\n01,1.5\n10,2.5\n")
    assert read_raw(tmp_path / "raw.csv", ["zip"])["zip"].tolist() == ["01", "10"]
    assert json.loads(pd.read_csv(tmp_path / "raw.csv")["zip"].to_json()) == {"0": 1, "1": 10}
