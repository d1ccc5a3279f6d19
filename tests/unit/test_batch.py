"""Batch scoring into a real SQLite file with the packaged ONNX model of the workspace."""

import json
import sqlite3
import uuid

import joblib
import numpy as np
import pandas as pd
import pytest

from tabml import paths
from tabml.batch.db import SchemaMismatchError
from tabml.batch.score import score_file
from tabml.model.features import model_frame
from tabml.scoring.task import Classification
from tabml.tables import TableError


@pytest.fixture
def db(tmp_path):
    return tmp_path / "predictions.db"


def query(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def counts(db) -> tuple[int, int, int]:
    if not db.exists():
        return (0, 0, 0)
    tables = ("batches", "predictions", "rejects")
    return tuple(query(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables)


def test_predictions_match_the_in_process_model(
    tmp_path, db, model, packaged, raw_penguins, profile
):
    source = tmp_path / "in.csv"
    raw_penguins.to_csv(source, index=False)
    result = score_file(source, f"sqlite:///{db}", model, chunk_rows=100)  # several chunks
    assert (result.rows, result.rejected, result.skipped) == (len(raw_penguins), 0, False)
    columns = "input_row, label, proba_adelie, proba_chinstrap, proba_gentoo, model_version"
    rows = query(db, f"SELECT {columns}, git_sha, scored_at FROM predictions ORDER BY input_row")
    # the independent reference: the scikit-learn pipeline itself, within the parity tolerance
    pipeline = joblib.load(packaged / paths.MODEL)
    frame = model_frame(raw_penguins, profile.features)
    labels, proba = pipeline.predict(frame), pipeline.predict_proba(frame)
    assert [r[0] for r in rows] == list(range(len(raw_penguins)))
    assert [r[1] for r in rows] == labels.tolist()
    np.testing.assert_allclose([r[2:5] for r in rows], proba, rtol=0, atol=1e-5)
    assert {r[5] for r in rows} == {model.version}
    assert model.version.startswith("tabml_model:")
    assert all(r[7].endswith("+00:00") for r in rows)


def test_bad_rows_go_to_rejects_with_reasons(tmp_path, db, model, good_record):
    rows = [
        good_record,
        {**good_record, "island": "Atlantis"},
        {**good_record, "body_mass_g": "heavy"},
        {**good_record, "flipper_length_mm": 9999},
    ]
    source = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(source, index=False)
    result = score_file(source, f"sqlite:///{db}", model)
    assert (result.rows, result.rejected) == (4, 3)
    assert query(db, "SELECT input_row, label FROM predictions") == [(0, "Gentoo")]
    rejects = query(db, "SELECT input_row, reason, record FROM rejects ORDER BY input_row")
    assert [r[0] for r in rejects] == [1, 2, 3]
    assert rejects[0][1].startswith("island: 'Atlantis' is not one of")
    assert rejects[1][1] == "body_mass_g: 'heavy' is not a number"
    assert rejects[2][1].startswith("flipper_length_mm: 9999")
    assert json.loads(rejects[1][2])["body_mass_g"] == "heavy"  # the original row, kept


def test_rerun_writes_nothing_new(tmp_path, db, model, raw_penguins):
    source = tmp_path / "in.parquet"
    raw_penguins.to_parquet(source)  # parquet input works too
    first = score_file(source, f"sqlite:///{db}", model)
    before = counts(db)
    again = score_file(source, f"sqlite:///{db}", model)
    assert again.skipped and again.batch_id == first.batch_id
    assert counts(db) == before == (1, len(raw_penguins), 0)


def test_key_column_is_stored(tmp_path, db, model, good_record):
    source = tmp_path / "in.csv"
    pd.DataFrame([{**good_record, "id": "a-1"}, {**good_record, "id": "b-2"}]).to_csv(source)
    score_file(source, f"sqlite:///{db}", model, key="id")
    assert query(db, "SELECT key FROM predictions ORDER BY input_row") == [("a-1",), ("b-2",)]


BAD_FILES = {
    "empty.csv": (b"", "the file is empty"),
    "header_only.csv": (b"island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n",
                        "no data rows"),
    "missing.csv": (b"island,sex\nBiscoe,male\n", "missing columns ['bill_length_mm'"),
    "image.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50, "not a CSV file"),
    "broken.parquet": (b"PAR1 this is not parquet", "cannot read as parquet"),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_files_give_one_clear_error_and_write_nothing(tmp_path, db, model, name):
    data, message = BAD_FILES[name]
    source = tmp_path / name
    source.write_bytes(data)
    with pytest.raises(TableError) as err:
        score_file(source, f"sqlite:///{db}", model)
    assert str(source) in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)
    assert counts(db) == (0, 0, 0)


def test_a_failure_mid_file_rolls_back_everything(tmp_path, db, model, raw_penguins):
    good = tmp_path / "good.csv"
    raw_penguins.to_csv(good, index=False)
    score_file(good, f"sqlite:///{db}", model)
    before = counts(db)
    broken = tmp_path / "broken.csv"
    text = raw_penguins.to_csv(index=False)
    broken.write_text(text + '"unterminated,quote\n' + "x," * 50 + "\n")  # breaks a late chunk
    with pytest.raises(TableError, match=r"broken\.csv"):
        score_file(broken, f"sqlite:///{db}", model, chunk_rows=50)
    assert counts(db) == before


def test_the_view_keeps_its_columns(tmp_path, db, model, good_record):
    source = tmp_path / "in.csv"
    pd.DataFrame([good_record]).to_csv(source, index=False)
    score_file(source, f"sqlite:///{db}", model)
    names = [row[1] for row in query(db, "PRAGMA table_info(predictions)")]
    probas = ["proba_adelie", "proba_chinstrap", "proba_gentoo"]
    assert names == ["batch_id", "input_row", "key", "label", *probas,
                     "model_version", "git_sha", "scored_at", "prediction_id"]  # fmt: skip


def test_batches_own_separate_row_ranges(tmp_path, db, model, good_record):
    """Rejected rows (the last one too) leave gaps; the next batch's rows stay its own."""
    odd = {**good_record, "island": "Atlantis"}
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    pd.DataFrame([good_record, odd, good_record, odd]).to_csv(first, index=False)
    pd.DataFrame([odd, good_record, good_record]).to_csv(second, index=False)
    a = score_file(first, f"sqlite:///{db}", model, chunk_rows=3)
    b = score_file(second, f"sqlite:///{db}", model)
    rows = query(db, "SELECT batch_id, input_row FROM predictions ORDER BY batch_id, input_row")
    assert sorted(rows) == sorted([(a.batch_id, 0), (a.batch_id, 2), (b.batch_id, 1),
                                   (b.batch_id, 2)])  # fmt: skip
    ranges = dict(query(db, "SELECT batch_id, first_id FROM batches"))
    assert ranges[b.batch_id] == ranges[a.batch_id] + 4
    assert query(db, "SELECT COUNT(*) FROM prediction_rows") == [(4,)]


def test_a_database_of_the_older_layout_is_refused(tmp_path, db, model, good_record):
    with sqlite3.connect(db) as conn:  # the layout before row id ranges
        conn.execute(
            "CREATE TABLE prediction_rows (batch_id VARCHAR(64), input_row INTEGER, key TEXT, "
            "label TEXT, proba_adelie FLOAT, proba_chinstrap FLOAT, proba_gentoo FLOAT, "
            "PRIMARY KEY (batch_id, input_row))"
        )
        conn.execute("INSERT INTO prediction_rows VALUES ('old', 0, NULL, 'Adelie', 1, 0, 0)")
    source = tmp_path / "in.csv"
    pd.DataFrame([good_record]).to_csv(source, index=False)
    with pytest.raises(SchemaMismatchError, match="older tabml batch layout") as err:
        score_file(source, f"sqlite:///{db}", model)
    assert "score into a new database" in str(err.value)
    tables = {name for (name,) in query(db, "SELECT name FROM sqlite_master")}
    assert "batches" not in tables and query(db, "SELECT COUNT(*) FROM prediction_rows") == [(1,)]


def test_explain_writes_one_explanation_per_prediction(tmp_path, db, model, raw_penguins, profile):
    from tabml.scoring.explain import Explainer

    source = tmp_path / "in.csv"
    frame = raw_penguins.head(120).copy()
    frame.loc[3, "island"] = "Atlantis"  # rejected: no explanation either
    frame.to_csv(source, index=False)
    score_file(source, f"sqlite:///{db}", model, chunk_rows=50, explain_top=2)
    rows = query(
        db,
        "SELECT p.input_row, p.label, e.class, e.base_value, e.explain_1_feature, "
        "e.explain_1_contribution, e.explain_2_feature, e.explain_2_contribution, "
        "e.other_features FROM predictions p JOIN explanations e "
        "USING (batch_id, input_row) ORDER BY p.input_row",
    )
    assert [r[0] for r in rows] == [i for i in range(120) if i != 3]
    explainer = Explainer(model)
    good = frame.drop(index=3)[profile.features.all].astype(object)
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()}
               for r in good.to_dict("records")]  # fmt: skip
    expected_rows = explainer.explain(model.inputs(records), top=2)
    for row, expected in zip(rows, expected_rows, strict=True):
        assert row[1] == row[2] == expected["class"]
        shown = [(c["feature"], c["contribution"]) for c in expected["contributions"]]
        assert [(row[4], row[5]), (row[6], row[7])] == [
            (f, pytest.approx(c, abs=1e-6)) for f, c in shown
        ]
        assert row[3] == pytest.approx(expected["base_value"], abs=1e-6)
        assert row[8] == pytest.approx(expected["other_features"], abs=1e-6)


def test_without_explain_there_is_no_explanations_table(tmp_path, db, model, raw_penguins):
    source = tmp_path / "in.csv"
    raw_penguins.head(10).to_csv(source, index=False)
    score_file(source, f"sqlite:///{db}", model)
    tables = {r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "explanations" not in tables and "prediction_rows" in tables


def test_explain_refuses_a_table_made_for_another_top(tmp_path, db, model, raw_penguins):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    raw_penguins.head(10).to_csv(first, index=False)
    raw_penguins.tail(10).to_csv(second, index=False)
    score_file(first, f"sqlite:///{db}", model, explain_top=3)
    with pytest.raises(SchemaMismatchError, match="--explain-top 2"):
        score_file(second, f"sqlite:///{db}", model, explain_top=2)


def test_every_prediction_gets_its_own_prediction_id(tmp_path, db, model, good_record):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    pd.DataFrame([good_record] * 3).to_csv(first, index=False)
    pd.DataFrame([good_record] * 2).to_csv(second, index=False)
    score_file(first, f"sqlite:///{db}", model, chunk_rows=2)
    score_file(second, f"sqlite:///{db}", model)
    ids = [i for (i,) in query(db, "SELECT prediction_id FROM predictions ORDER BY scored_at")]
    assert len(ids) == len(set(ids)) == 5  # unique across chunks and batches
    assert all(uuid.UUID(i).version == 7 for i in ids)


def test_a_database_without_prediction_ids_is_refused(tmp_path, db, model, good_record):
    with sqlite3.connect(db) as conn:  # the id-range layout before prediction ids
        conn.execute(
            "CREATE TABLE prediction_rows (id INTEGER PRIMARY KEY, key TEXT, label TEXT, "
            "proba_adelie FLOAT, proba_chinstrap FLOAT, proba_gentoo FLOAT)"
        )
    source = tmp_path / "in.csv"
    pd.DataFrame([good_record]).to_csv(source, index=False)
    with pytest.raises(SchemaMismatchError, match="no prediction_id column"):
        score_file(source, f"sqlite:///{db}", model)


def test_a_database_with_prediction_ids_stored_per_row_is_refused(tmp_path, db, model, good_record):
    source = tmp_path / "in.csv"
    pd.DataFrame([good_record]).to_csv(source, index=False)
    with sqlite3.connect(db) as conn:  # the layout that stored each row's id text
        conn.execute(
            "CREATE TABLE prediction_rows (id INTEGER PRIMARY KEY, key TEXT, label TEXT, "
            "proba_adelie FLOAT, proba_chinstrap FLOAT, proba_gentoo FLOAT, "
            "prediction_id VARCHAR(36))"
        )
    with pytest.raises(SchemaMismatchError, match="a prediction_id stored in every row") as err:
        score_file(source, f"sqlite:///{db}", model)
    assert "score into a new database" in str(err.value)
    tables = {name for (name,) in query(db, "SELECT name FROM sqlite_master")}
    assert "batches" not in tables


@pytest.mark.parametrize("count", [1, 99, 100, 2_000, 2_345, 4_100])
def test_insert_columns_writes_every_row_as_given(tmp_path, count):
    """Many rows per statement, in blocks, plus a shorter last statement: the rows read back
    are the columns zipped, exactly (floats to the bit, None as NULL)."""
    from tabml.batch import db as batch_db

    rng = np.random.default_rng(count)
    ids = np.arange(7, 7 + count)
    keys = [None if i % 3 else f"k{i}" for i in range(count)]
    labels = [("Adelie", "Gentoo")[i % 2] for i in range(count)]
    probas = [rng.random(count) for _ in range(3)]
    engine = batch_db.connect(f"sqlite:///{tmp_path / 'rows.db'}")
    _, _, rows, _ = batch_db.tables(
        Classification(["Adelie", "Chinstrap", "Gentoo"]).batch_columns()
    )
    with engine.begin() as conn:
        rows.create(conn)
        batch_db.insert_columns(conn, rows, [ids, keys, labels, *probas])
    engine.dispose()
    expected = list(zip(ids.tolist(), keys, labels, *(p.tolist() for p in probas), strict=True))
    assert query(tmp_path / "rows.db", "SELECT * FROM prediction_rows ORDER BY id") == expected
