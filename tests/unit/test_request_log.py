"""The request log: records round-trip, the writer thread flushes, disk use stays bounded."""

import json
import time
from datetime import UTC, datetime, timedelta

from tabml.monitoring.sources import read_request_log
from tabml.scoring.task import Classification, Regression
from tabml.serving.request_log import RequestLogger, make_record, prune, write_batch


def read_requests(directory):
    """The logged inputs as `make drift`, `make monitor` and `make harvest` read them."""
    read = read_request_log(directory)
    assert read.skipped == 0  # every line the writer wrote is a readable record
    return read.frame


def _inputs(mass: float) -> dict:
    return {"island": "Biscoe", "bill_length_mm": 39.1, "body_mass_g": mass, "sex": None}


def test_records_round_trip_to_a_frame(tmp_path):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    records = [
        make_record(_inputs(3000 + i), "v1.0.0", start + timedelta(hours=i)) for i in range(3)
    ]
    write_batch(records, tmp_path)
    frame = read_requests(tmp_path)
    assert list(frame["body_mass_g"]) == [3000, 3001, 3002]
    assert frame["sex"].isna().all() and set(frame["model_version"]) == {"v1.0.0"}
    assert frame["timestamp"].tolist() == [start + timedelta(hours=i) for i in range(3)]


def test_empty_log_reads_as_an_empty_frame(tmp_path):
    assert read_requests(tmp_path / "nothing").empty
    assert write_batch([], tmp_path) is None


def test_prune_deletes_the_oldest_files_first(tmp_path):
    for name in ("20250101T000000000000-1-000000", "20250102T000000000000-1-000001"):
        (tmp_path / f"{name}.jsonl").write_text("x" * 100)
    pruned = prune(tmp_path, max_bytes=150)
    assert [p.name[:8] for p in pruned.removed] == ["20250101"]
    assert pruned.records == 0 and pruned.skipped == []  # no newline: no record
    assert len(list(tmp_path.glob("*.jsonl"))) == 1


def _undeletable_oldest_entries(directory) -> list:
    """The two oldest log entries cannot be deleted: a directory named like a log file (with
    a file inside), and, where the kernel allows (root, ext4), an immutable log file."""
    import shutil
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    folder = directory / "20000101T000000000000-1-000000.jsonl"
    folder.mkdir()
    (folder / "inside.jsonl").write_text("{}\n" * 1000)
    blocked = [folder]
    stuck = directory / "20000101T000000000001-1-000001.jsonl"
    stuck.write_text('{"x":1}\n' * 100)
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", str(stuck)], capture_output=True).returncode == 0:
        blocked.append(stuck)
    else:
        stuck.unlink()
    return blocked


def _release(blocked) -> None:
    import shutil
    import subprocess

    for path in blocked:
        if path.is_file():
            subprocess.run([shutil.which("chattr"), "-i", str(path)], check=True)


def test_an_undeletable_oldest_entry_is_skipped_and_the_cap_still_holds(tmp_path):
    from tabml.serving.log_writer import log_bytes

    blocked = _undeletable_oldest_entries(tmp_path)
    try:
        logger = RequestLogger(tmp_path, max_bytes=60_000, batch_size=50, interval_s=0.05)
        for _ in range(40):
            logger.log([_inputs(3000 + j) for j in range(50)], None)
        logger.close()
        # the cap holds over what could be deleted and what could not
        assert log_bytes(tmp_path) <= 60_000
        assert all(path.exists() for path in blocked)
        # written records are never counted as dropped; what pruning deleted is counted
        assert logger.dropped == 0 and logger.write_errors == 0
        written = [f for f in tmp_path.glob("*.jsonl") if f.is_file() and f not in blocked]
        kept = sum(f.read_text().count("\n") for f in written)
        assert logger.pruned_records > 0 and kept > 0
        assert kept + logger.pruned_records == 2000
    finally:
        _release(blocked)


def test_a_failed_write_counts_its_records_once_and_fails_their_acknowledgement(tmp_path):
    import pytest

    target = tmp_path / "log"
    target.write_text("not a directory")  # every write fails (for root too)
    logger = RequestLogger(target, interval_s=0.05)
    written = logger.log_records([{"label": "Gentoo"}] * 3, ack=True)
    with pytest.raises(OSError):
        written.result(timeout=10)
    logger.close()
    assert (logger.dropped, logger.write_errors) == (3, 1)


def test_logger_flushes_in_batches_from_a_thread_and_bounds_disk_use(tmp_path):
    logger = RequestLogger(tmp_path, max_bytes=40_000, batch_size=50, interval_s=0.05)
    for _ in range(20):
        logger.log([_inputs(3000 + j) for j in range(50)], None)
    logger.close()
    files = list(tmp_path.glob("*.jsonl"))
    assert len(files) > 1
    assert sum(f.stat().st_size for f in files) <= 40_000
    frame = read_requests(tmp_path)
    assert 0 < len(frame) < 1000  # the oldest batches were pruned
    assert logger.dropped == 0


def test_logger_drops_and_counts_when_the_queue_is_full(tmp_path):
    logger = RequestLogger(tmp_path, batch_size=10_000, interval_s=5, max_queued=5)
    logger.log([_inputs(3000) for _ in range(50)], None)
    logger.close()
    assert logger.dropped >= 40
    assert len(read_requests(tmp_path)) == 50 - logger.dropped


def test_logger_writes_one_file_per_interval_under_a_steady_trickle(tmp_path):
    # Records arriving while a file is written wait for the next wake, not a file each.
    logger = RequestLogger(tmp_path, batch_size=10_000, interval_s=0.2)
    stop = time.monotonic() + 0.7
    sent = 0
    while time.monotonic() < stop:
        logger.log([_inputs(3000 + sent % 100)], None)
        sent += 1
        time.sleep(0.0005)
    logger.close()
    assert len(read_requests(tmp_path)) == sent
    assert len(list(tmp_path.glob("*.jsonl"))) <= 6  # ~4 wakes + the flush at close


def test_logged_lines_are_make_records_lines(tmp_path):
    # The writer builds each line from a per-request head: the bytes must parse as the
    # documented record, the same as `make_record` + `write_batch` give.
    when = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    rows = [_inputs(3000), {**_inputs(3100), "island": 'Dr\u00e9am "quoted"'}]
    logger = RequestLogger(tmp_path / "served")
    logger.log(rows, "v1.0.0", when)
    logger.close()
    write_batch([make_record(row, "v1.0.0", when) for row in rows], tmp_path / "reference")
    (served,) = (tmp_path / "served").glob("*.jsonl")
    (reference,) = (tmp_path / "reference").glob("*.jsonl")
    parsed = [json.loads(line) for line in served.read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(line) for line in reference.read_text(encoding="utf-8").splitlines()]
    assert parsed == expected == [make_record(row, "v1.0.0", when) for row in rows]
    assert read_requests(tmp_path / "served").equals(read_requests(tmp_path / "reference"))


def test_logger_counts_records_that_do_not_fit_in_the_queue(tmp_path):
    logger = RequestLogger(tmp_path, batch_size=10_000, interval_s=5, max_queued=120)
    for _ in range(3):
        logger.log([_inputs(3000 + j) for j in range(50)], None)  # 150 records, room for 120
    logger.close()
    assert logger.dropped == 30
    assert len(read_requests(tmp_path)) == 120


def test_lines_with_answers_carry_the_prediction_and_read_back(tmp_path):
    # The writer splices the answer's id, label and probabilities into the request's line.
    import json

    logger = RequestLogger(tmp_path / "requests", interval_s=0.05)
    answers = [{"species": "Adelie", "probabilities": {"Adelie": 0.9, "Gentoo": 0.1},
                "prediction_id": f"id-{i}", "warnings": []} for i in range(2)]  # fmt: skip
    logged = Classification(["Adelie", "Gentoo"]).logged
    logger.log(
        [_inputs(3000), _inputs(3001)], "v1", answers=answers, target="species", logged=logged
    )
    logger.close()
    (file,) = (tmp_path / "requests").glob("*.jsonl")
    first, second = [json.loads(line) for line in file.read_text().splitlines()]
    assert (first["prediction_id"], first["predicted"]) == ("id-0", "Adelie")
    assert first["probabilities"] == {"Adelie": 0.9, "Gentoo": 0.1}
    stamp = datetime.fromisoformat(first["timestamp"])
    assert first == make_record(_inputs(3000), "v1", stamp, answers[0], "species", logged)
    assert second["inputs"]["body_mass_g"] == 3001 and second["prediction_id"] == "id-1"
    assert len(read_requests(tmp_path / "requests")) == 2  # drift and monitor read them


def test_whole_records_are_logged_one_line_each(tmp_path):
    import json

    logger = RequestLogger(tmp_path, interval_s=0.05)
    records = [{"timestamp": "2025-01-01T00:00:00+00:00", "label": "Gentoo"}] * 3
    logger.log_records(records)
    logger.close()
    (file,) = tmp_path.glob("*.jsonl")
    assert [json.loads(line) for line in file.read_text().splitlines()] == records


def test_a_regression_answer_logs_its_value_and_interval_ends(tmp_path):
    logger = RequestLogger(tmp_path, interval_s=0.05)
    answers = [{"body_mass_g": 4650.5, "interval": [4100.25, 5200.75], "warnings": [],
                "prediction_id": "id-0", "model_version": "v1"}]  # fmt: skip
    logged = Regression(550.25, 0.9).logged
    logger.log([_inputs(3000)], "v1", answers=answers, target="body_mass_g", logged=logged)
    logger.close()
    (file,) = tmp_path.glob("*.jsonl")
    line = json.loads(file.read_text())
    assert (line["predicted"], line["interval_low"], line["interval_high"]) == (
        4650.5, 4100.25, 5200.75)  # fmt: skip
    assert "probabilities" not in line
    stamp = datetime.fromisoformat(line["timestamp"])
    assert line == make_record(_inputs(3000), "v1", stamp, answers[0], "body_mass_g", logged)
    frame = read_request_log(tmp_path, Regression(550.25, 0.9)).frame  # value and interval
    assert frame[["predicted", "interval_low", "interval_high"]].iloc[0].tolist() == [
        4650.5, 4100.25, 5200.75]  # fmt: skip
