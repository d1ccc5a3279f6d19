"""Feedback: the /feedback request model, the label file import and the bounded log."""

from typing import Literal

import pandas as pd
import pytest
from pydantic import ValidationError

from tabml.monitoring.label_files import LabelFileError, import_labels
from tabml.monitoring.sources import read_feedback_log
from tabml.scoring.prediction_ids import new_ids
from tabml.serving.feedback import MAX_LABELS, feedback_model, write_labels

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


def test_the_request_model_takes_ids_and_classes_only():
    model = feedback_model(Literal[tuple(CLASSES)])
    (pid,) = new_ids(1)
    body = model.model_validate({"labels": [{"prediction_id": pid, "label": "Gentoo"}]})
    assert body.labels[0].label == "Gentoo"
    bad = [
        {"labels": [{"prediction_id": pid, "label": "Emu"}]},
        {"labels": [{"prediction_id": pid.upper(), "label": "Gentoo"}]},
        {"labels": [{"prediction_id": pid, "label": "Gentoo", "note": "x"}]},
        {"labels": [{"prediction_id": pid, "label": 1}]},
        {"labels": []},
        {"labels": [{"prediction_id": pid, "label": "Gentoo"}] * (MAX_LABELS + 1)},
    ]
    for body in bad:
        with pytest.raises(ValidationError):
            model.model_validate(body)


def test_a_labels_file_is_imported_whole(tmp_path):
    ids = new_ids(3)
    source = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": [i.upper() for i in ids], "label": CLASSES, "x": 1}).to_csv(
        source, index=False
    )
    assert import_labels(source, CLASSES, tmp_path / "feedback") == 3
    frame = read_feedback_log(tmp_path / "feedback").frame
    assert frame["prediction_id"].tolist() == ids  # ids are case-insensitive: stored lowercase
    assert frame["label"].tolist() == CLASSES


def test_a_bad_labels_file_names_its_rows_and_imports_nothing(tmp_path):
    ids = new_ids(3)
    source = tmp_path / "labels.csv"
    rows = {"prediction_id": [ids[0], "nope", ids[2]], "label": ["Adelie", "Gentoo", "Emu"]}
    pd.DataFrame(rows).to_csv(source, index=False)
    with pytest.raises(LabelFileError) as err:
        import_labels(source, CLASSES, tmp_path / "feedback")
    message = str(err.value)
    assert "2 bad row(s), nothing imported" in message
    assert "row 2: prediction_id 'nope' is not a UUIDv7" in message
    assert "row 3: label 'Emu' is not one of" in message
    assert not (tmp_path / "feedback").exists()


def test_the_feedback_log_stays_within_its_byte_bound(tmp_path):
    pairs = list(zip(new_ids(5000), ["Adelie"] * 5000, strict=True))
    for _ in range(6):
        write_labels(pairs, "file:x", tmp_path, max_bytes=1_500_000)
    files = list(tmp_path.glob("*.jsonl"))
    assert sum(f.stat().st_size for f in files) <= 1_500_000
    assert 0 < len(read_feedback_log(tmp_path).frame) < 30_000  # the oldest were deleted


def test_a_regression_model_takes_finite_numbers_only():
    model = feedback_model(float)  # a regression model's labels are numbers
    (pid,) = new_ids(1)
    body = model.model_validate({"labels": [{"prediction_id": pid, "label": 4650.5}]})
    assert body.labels[0].label == 4650.5
    for label in ("heavy", "4650", float("nan"), float("inf"), None):
        with pytest.raises(ValidationError):
            model.model_validate({"labels": [{"prediction_id": pid, "label": label}]})


def test_a_regression_labels_file_is_read_as_numbers_and_joined(tmp_path):
    ids = new_ids(3)
    source = tmp_path / "labels.csv"
    labels = pd.DataFrame({"prediction_id": ids, "label": [4650.5, 3800, " 5100 "]})
    labels.to_csv(source, index=False)
    assert import_labels(source, [], tmp_path / "feedback") == 3
    read = read_feedback_log(tmp_path / "feedback", numeric=True)
    assert read.frame["label"].tolist() == [4650.5, 3800.0, 5100.0] and read.skipped == 0
    # a class label in the same log (another model's) is skipped and counted, not a number
    write_labels([(ids[0], "Adelie")], "http", tmp_path / "feedback")
    assert read_feedback_log(tmp_path / "feedback", numeric=True).skipped == 1


def test_a_bad_regression_labels_file_names_its_rows(tmp_path):
    ids = new_ids(3)
    source = tmp_path / "labels.csv"
    labels = pd.DataFrame({"prediction_id": ids, "label": ["4650", "heavy", "inf"]})
    labels.to_csv(source, index=False)
    with pytest.raises(LabelFileError) as err:
        import_labels(source, [], tmp_path / "feedback")
    message = str(err.value)
    assert "2 bad row(s), nothing imported" in message
    assert "row 2: label 'heavy' is not a finite number" in message
    assert "row 3: label 'inf' is not a finite number" in message
