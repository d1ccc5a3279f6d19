"""Feedback: the /feedback request model, the label file import and the bounded log."""

import asyncio
from typing import Literal

import pandas as pd
import pytest
from pydantic import ValidationError

from tabml.monitoring.label_files import LabelFileError, import_labels
from tabml.monitoring.sources import read_feedback_log
from tabml.scoring.prediction_ids import new_ids
from tabml.serving.feedback import MAX_LABELS, FeedbackLog, feedback_model, write_labels
from tabml.serving.label_import import (
    COMMITTED,
    STAGING_PREFIX,
    ImportRefused,
    finish_imports,
)
from tabml.serving.log_writer import log_bytes

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


def test_labels_beyond_the_log_limit_are_refused_whole_and_nothing_is_pruned(tmp_path):
    pairs = list(zip(new_ids(5000), ["Adelie"] * 5000, strict=True))
    assert write_labels(pairs, "file:x", tmp_path, max_bytes=1_500_000) == 5000
    before = sorted(f.name for f in tmp_path.iterdir())
    with pytest.raises(ImportRefused) as refused:
        write_labels(pairs * 3, "file:y", tmp_path, max_bytes=1_500_000)
    # how many would fit: the bytes left over one label line's length
    line = len(tmp_path.joinpath(before[0]).read_text().splitlines()[0]) + 1
    fit = (1_500_000 - log_bytes(tmp_path)) // line
    assert f"room for the first {fit:,} labels; nothing imported" in str(refused.value)
    assert sorted(f.name for f in tmp_path.iterdir()) == before  # no staging folder left
    assert len(read_feedback_log(tmp_path).frame) == 5000  # the first import is whole
    # with a higher limit all of them are written and read back
    assert write_labels(pairs * 3, "file:y", tmp_path, max_bytes=6_000_000) == 15_000
    assert len(read_feedback_log(tmp_path).frame) == 20_000


def test_a_labels_file_over_the_limit_names_the_file_and_imports_nothing(tmp_path):
    source = tmp_path / "labels.csv"
    pd.DataFrame({"prediction_id": new_ids(1000), "label": "Gentoo"}).to_csv(source, index=False)
    with pytest.raises(LabelFileError, match=r"labels.csv: 1,000 labels: more labels than"):
        import_labels(source, CLASSES, tmp_path / "feedback", max_bytes=10_000)
    assert list((tmp_path / "feedback").glob("*.jsonl")) == []


def test_an_import_killed_before_its_commit_is_deleted_and_after_it_finished(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    pairs = list(zip(new_ids(3), CLASSES, strict=True))
    write_labels(pairs, "file:a", tmp_path / "staged", max_bytes=10**6)
    (written,) = (tmp_path / "staged").glob("*.jsonl")
    for name, committed in (("killed-before", False), ("killed-after", True)):
        staging = tmp_path / "log" / f"{STAGING_PREFIX}{dead}-{name}"
        staging.mkdir(parents=True)
        (staging / f"{name}.jsonl").write_bytes(written.read_bytes())
        if committed:
            (staging / COMMITTED).touch()
    assert read_feedback_log(tmp_path / "log").frame.empty  # staged labels are not read
    finish_imports(tmp_path / "log")
    assert [p.name for p in (tmp_path / "log").iterdir()] == ["killed-after.jsonl"]
    assert read_feedback_log(tmp_path / "log").frame["label"].tolist() == CLASSES


def _labels(n: int) -> list:
    model = feedback_model(Literal[tuple(CLASSES)])
    body = {"labels": [{"prediction_id": i, "label": "Gentoo"} for i in new_ids(n)]}
    return model.model_validate(body).labels


def test_feedback_is_answered_after_it_is_written(tmp_path):
    log = FeedbackLog(tmp_path, max_bytes=10**6)
    status, answer = asyncio.run(log.log(_labels(3), "annotator-7"))
    assert (status, answer) == (200, {"accepted": 3, "refused": 0})
    read = read_feedback_log(tmp_path)  # on disk before the answer, not a second later
    assert len(read.frame) == 3
    log.close()
    (file,) = tmp_path.glob("*.jsonl")
    assert '"source":"http:annotator-7"' in file.read_text()


def test_a_full_feedback_log_refuses_with_507_and_keeps_every_label(tmp_path):
    log = FeedbackLog(tmp_path, max_bytes=2_000)
    assert asyncio.run(log.log(_labels(10)))[0] == 200
    before = read_feedback_log(tmp_path).frame
    status, answer = asyncio.run(log.log(_labels(20)))  # would pass the limit
    assert status == 507 and answer["accepted"] == 0 and answer["refused"] == 20
    assert answer["reason"] == "full" and "no label is deleted" in answer["error"]
    assert asyncio.run(log.log(_labels(20)))[0] == 507  # now refused before queueing
    assert log.refused == {"full": 40, "busy": 0, "write_error": 0}
    log.close()
    assert read_feedback_log(tmp_path).frame.equals(before)


def test_a_failed_write_is_refused_with_503_never_accepted(tmp_path, caplog):
    target = tmp_path / "feedback"
    target.write_text("a file where the log's folder should be")  # every write fails
    log = FeedbackLog(target, max_bytes=10**6)
    with caplog.at_level("ERROR"):
        status, answer = asyncio.run(log.log(_labels(101)))
    log.close()
    assert status == 503 and answer["accepted"] == 0 and answer["refused"] == 101
    assert log.refused["write_error"] == 101 and log.logger.dropped == 101
    assert [r.message for r in caplog.records if "101 records not written" in r.message]


def test_the_request_model_takes_an_optional_labeller_name():
    model = feedback_model(Literal[tuple(CLASSES)])
    (pid,) = new_ids(1)
    body = {"labels": [{"prediction_id": pid, "label": "Gentoo"}], "source": "annotator-7"}
    assert model.model_validate(body).source == "annotator-7"
    for bad in ("", "a b", "x" * 65, "http:y", 7):
        with pytest.raises(ValidationError):
            model.model_validate({**body, "source": bad})


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
