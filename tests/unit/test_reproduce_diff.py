"""What `make reproduce` says moved: outputs by stage from two dvc.lock files, how much each
moved (read from a DVC cache), and how two sets of answers differ."""

import json
import os
import sys
import tarfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tabml import paths
from tabml.reproduce.answers import Answers, compare_answers, score_test_split
from tabml.reproduce.describe import describe
from tabml.reproduce.outputs import OutputChange, lock_outputs, moved_outputs

LOCK = """schema: '2.0'
stages:
  split:
    cmd: python -m tabml.stages.split
    outs:
    - path: data/processed/test.parquet
      hash: md5
      md5: {test}
      size: 10
  train:
    cmd: python -m tabml.stages.train
    outs:
    - path: models/model.joblib
      hash: md5
      md5: {model}
      size: 20
    - path: models/training_stats.json
      hash: md5
      md5: {stats}
      size: 30
"""


def lock(test="a" * 32, model="b" * 32, stats="c" * 32) -> str:
    return LOCK.format(test=test, model=model, stats=stats)


def test_lock_outputs_in_pipeline_order():
    outs = lock_outputs(lock())
    assert [(o.stage, o.path) for o in outs] == [
        ("split", "data/processed/test.parquet"),
        ("train", "models/model.joblib"),
        ("train", "models/training_stats.json"),
    ]
    assert outs[1].md5 == "b" * 32 and outs[1].size == 20


def test_moved_outputs_names_each_output_and_its_stage_in_order():
    assert moved_outputs(lock(), lock()) == []
    moved = moved_outputs(lock(), lock(model="d" * 32, stats="e" * 32))
    assert [(m.stage, m.path, m.recorded, m.reproduced) for m in moved] == [
        ("train", "models/model.joblib", "b" * 32, "d" * 32),
        ("train", "models/training_stats.json", "c" * 32, "e" * 32),
    ]


def test_an_output_only_one_side_has_is_a_change():
    fewer = "\n".join(lock().splitlines()[:-5]) + "\n"  # training_stats.json dropped
    (gone,) = moved_outputs(lock(), fewer)
    assert gone.path == "models/training_stats.json" and gone.reproduced is None
    (new,) = moved_outputs(fewer, lock())
    assert new.recorded is None and new.reproduced == "c" * 32


def put(cache: Path, md5: str, data: bytes) -> str:
    target = cache / "files" / "md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return md5


def change(path: str, cache: Path, old: bytes, new: bytes) -> str:
    moved = OutputChange(stage="s", path=path, recorded=put(cache, "1" * 32, old),
                         reproduced=put(cache, "2" * 32, new))  # fmt: skip
    return describe(moved, cache)


def test_json_output_names_the_numbers_that_moved_largest_first(tmp_path):
    old = {"accuracy": 0.932692, "log_loss": 0.322432, "rows": 104}
    new = {"accuracy": 0.942308, "log_loss": 0.322431, "rows": 104}
    text = change("reports/metrics.json", tmp_path, json.dumps(old).encode(),
                  json.dumps(new).encode())  # fmt: skip
    assert text.startswith("2 of 3 values moved: accuracy 0.932692 -> 0.942308 (+0.00962)")
    assert "log_loss 0.322432 -> 0.322431 (-1e-06)" in text


def test_table_output_counts_cells_and_the_largest_numeric_change(tmp_path):
    old = pd.DataFrame({"x": [1.0, 2.0, np.nan], "s": ["a", "b", None]})
    new = pd.DataFrame({"x": [1.0, 2.5, np.nan], "s": ["a", "c", None]})
    files = []
    for frame in (old, new):
        path = tmp_path / f"{len(files)}.parquet"
        frame.to_parquet(path)
        files.append(path.read_bytes())
    text = change("data/processed/test.parquet", tmp_path / "cache", *files)
    assert text == "2 of 6 cells in 2 columns differ (max |d x| 0.5)"


def test_text_output_shows_the_first_changed_line(tmp_path):
    text = change("reports/model_card.md", tmp_path, b"a\n| sklearn | 1.9 |\nz\n",
                  b"a\n| sklearn | 1.8 |\nz\n")  # fmt: skip
    assert text == "2 lines differ, first: '| sklearn | 1.9 |' -> '| sklearn | 1.8 |'"


def tar_of(tmp_path: Path, files: dict[str, bytes]) -> bytes:
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.tar.xz"
    with tarfile.open(path, "w:xz") as tar:
        for name, data in files.items():
            member = tmp_path / "member"
            member.write_bytes(data)
            tar.add(member, arcname=name)
    return path.read_bytes()


def test_archive_output_names_members_with_new_content_not_renamed_ones(tmp_path):
    folder = tmp_path / "tars"
    folder.mkdir()
    old = tar_of(folder, {"./bento.yaml": b"v: 1", "./models/m/aa/model.onnx": b"onnx"})
    new = tar_of(folder, {"./bento.yaml": b"v: 2", "./models/m/bb/model.onnx": b"onnx"})
    text = change("models/tabml_service.bento", tmp_path / "cache", old, new)
    assert (
        text == "1 of 2 archived files have new content: bento.yaml; 1 renamed with the same bytes"
    )


def test_model_output_says_which_fitted_arrays_moved_and_by_how_much(tmp_path):
    x, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    models = [LogisticRegression(C=c).fit(x, y) for c in (1.0, 0.5)]
    files = []
    for i, model in enumerate(models):
        joblib.dump(model, tmp_path / f"{i}.joblib")
        files.append((tmp_path / f"{i}.joblib").read_bytes())
    text = change("models/model.joblib", tmp_path / "cache", *files)
    gap = np.abs(models[1].coef_ - models[0].coef_).max()  # the reference: numpy on the fits
    assert "2 of 4 fitted arrays moved" in text
    assert f"model.coef_ max |d| {gap:.3g}" in text


def test_recorded_content_missing_from_the_cache_is_said_not_guessed(tmp_path):
    moved = OutputChange(stage="train", path="models/model.joblib", recorded="9" * 32,
                         reproduced=put(tmp_path, "2" * 32, b"x"))  # fmt: skip
    assert "not in the DVC cache" in describe(moved, tmp_path)


def answers(rows, rejects=()) -> Answers:
    return Answers(columns=["input_row", "label", "proba_a", "proba_b"], rows=rows,
                   rejects=[list(r) for r in rejects])  # fmt: skip


def test_identical_answers_have_one_digest():
    a = answers([[0, "A", 0.75, 0.25], [1, "B", 0.5, 0.5]])
    b = answers([[0, "A", 0.75, 0.25], [1, "B", 0.5, 0.5]])
    assert a.sha256() == b.sha256() and compare_answers(a, b).identical


def test_answers_diff_counts_labels_and_the_largest_probability_change():
    old = answers([[0, "A", 0.75, 0.25], [1, "B", 0.5, 0.5], [2, "A", 0.9, 0.1]])
    new = answers([[0, "A", 0.75, 0.25], [1, "A", 0.5000001, 0.4999999], [2, "A", 0.9, 0.1]])
    diff = compare_answers(old, new)
    assert old.sha256() != new.sha256()
    assert diff.changed_rows == 1 and diff.text_changed["label"] == 1
    assert diff.largest_change["proba_a"] == pytest.approx(1e-7)
    assert not diff.within(1e-5)  # a label changed: never within tolerance
    assert diff.summary().startswith("1 of 3 rows changed; 1 label changed")


def test_answers_within_tolerance_only_when_labels_and_rows_stay():
    old = answers([[0, "A", 0.75, 0.25]])
    close = answers([[0, "A", 0.750001, 0.249999]])
    assert compare_answers(old, close).within(1e-5)
    assert not compare_answers(old, close).within(1e-7)
    assert not compare_answers(old, answers([[0, "A", 0.75, 0.25]], [(1, "bad")])).within(1)


def test_score_test_split_gives_what_scikit_learn_predicts(packaged):
    """The batch answers on the test split against the fitted scikit-learn pipeline."""
    from tabml.data.profile import load_profile
    from tabml.model.features import model_frame

    env = {**os.environ, "PYTHONPATH": str(packaged / "src")}
    got = score_test_split(sys.executable, packaged, env)
    test = pd.read_parquet(packaged / paths.TEST_DATA)
    model = joblib.load(packaged / paths.MODEL)
    frame = model_frame(test, load_profile("penguins", packaged / "configs").features)
    expected = model.predict_proba(frame)
    assert len(got.rows) == len(test) and got.rejects == []
    at = {c: got.columns.index(c) for c in got.columns}
    labels = [row[at["label"]] for row in got.rows]
    assert labels == list(model.predict(frame))
    for j, name in enumerate(model.classes_):
        column = [row[at[f"proba_{name.lower()}"]] for row in got.rows]
        np.testing.assert_allclose(column, expected[:, j], atol=1e-5)
    assert score_test_split(sys.executable, packaged, env).sha256() == got.sha256()
