"""`make batch` in the session's packaged workspace: real model, real SQLite, real CLI."""

import sqlite3

import pandas as pd
import pytest

from testkit import make_cmd, run

pytestmark = pytest.mark.integration  # `make batch` in child processes


def test_make_batch_scores_a_file_and_a_rerun_adds_nothing(packaged, tmp_path):
    source = tmp_path / "inputs.csv"
    test = pd.read_parquet(packaged / "data/processed/test.parquet")
    test.assign(body_mass_g=test["body_mass_g"].astype(object)).assign(
        body_mass_g=lambda f: f["body_mass_g"].where(f.index != f.index[0], "heavy")
    ).to_csv(source, index=False)
    db = tmp_path / "out.db"
    cmd = make_cmd("batch", f"INPUT={source}", f"DB=sqlite:///{db}")
    first = run(cmd, packaged)
    assert f"{len(test) - 1} predictions, 1 rejects from {source}" in first.stdout
    assert f"batch: {len(test)}/{len(test)} rows (100%)" in first.stderr
    again = run(cmd, packaged)
    assert "already scored" in again.stdout and "nothing written" in again.stdout
    with sqlite3.connect(db) as conn:
        labels = conn.execute("SELECT label FROM predictions ORDER BY input_row").fetchall()
        reject = conn.execute("SELECT input_row, reason FROM rejects").fetchall()
    assert len(labels) == len(test) - 1
    # the default model on the test split: the evaluate stage's accuracy
    truth = test["species"].iloc[1:].tolist()
    assert sum(a == b for (a,), b in zip(labels, truth, strict=True)) / len(truth) > 0.85
    assert reject == [(0, "body_mass_g: 'heavy' is not a number")]


def test_make_batch_refuses_a_missing_column(packaged, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("island,sex\nBiscoe,male\n")
    db = tmp_path / "out.db"
    cmd = make_cmd("batch", f"INPUT={source}", f"DB=sqlite:///{db}")
    result = run(cmd, packaged, check=False)
    assert result.returncode != 0
    assert f"error: {source}: missing columns" in result.stderr
    assert not db.exists()


def test_make_batch_explain_writes_the_explanations_table(packaged, tmp_path):
    source = tmp_path / "inputs.csv"
    test = pd.read_parquet(packaged / "data/processed/test.parquet")
    test.to_csv(source, index=False)
    db = tmp_path / "out.db"
    run(make_cmd("batch", f"INPUT={source}", f"DB=sqlite:///{db}", "EXPLAIN=1"), packaged)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT p.label, e.class, e.base_value + e.explain_1_contribution + "
            "e.explain_2_contribution + e.explain_3_contribution + e.other_features, "
            "p.proba_adelie, p.proba_chinstrap, p.proba_gentoo FROM predictions p "
            "JOIN explanations e USING (batch_id, input_row) ORDER BY input_row"
        ).fetchall()
    assert len(rows) == len(test)
    for label, klass, total, *proba in rows:
        by_class = dict(zip(["Adelie", "Chinstrap", "Gentoo"], proba, strict=True))
        assert label == klass and abs(total - by_class[label]) < 1e-6
