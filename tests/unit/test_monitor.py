"""The monitor's join, readers and alert rule, on small hand-made logs."""

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tabml.monitoring import alerts, join, sources
from tabml.params import MonitorParams
from tabml.scoring.prediction_ids import new_ids
from tabml.scoring.task import Classification
from tabml.serving.feedback import feedback_records
from tabml.serving.request_log import make_record, write_batch
from testkit.models import bare_metadata

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _labels(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """(prediction_id, label, seconds after T0) -> a labels frame."""
    return pd.DataFrame(
        {
            "prediction_id": [r[0] for r in rows],
            "label": [r[1] for r in rows],
            "timestamp": pd.to_datetime([T0 + timedelta(seconds=r[2]) for r in rows]),
        }
    )


def _predictions(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"prediction_id": ids, "predicted": "Adelie", "model_version": "v1"})


def test_the_last_label_received_wins_and_unmatched_labels_are_counted():
    a, b, c, stranger = new_ids(4)
    labels = _labels([
        (a, "Gentoo", 5), (a, "Adelie", 9),  # re-sent: the later one counts
        (b, "Chinstrap", 7), (b, "Gentoo", 3),  # out of order in the log: time decides
        (stranger, "Adelie", 1),
    ])  # fmt: skip
    joined, counts = join.join_labels(_predictions([a, b, c]), labels)
    label_of = joined.set_index("prediction_id")["label"]
    assert label_of.loc[[a, b]].tolist() == ["Adelie", "Chinstrap"]
    assert pd.isna(label_of.loc[c])
    assert (counts.labels_received, counts.labelled_ids) == (5, 3)
    assert (counts.matched, counts.unmatched) == (2, 1)
    assert len(joined) == 3  # no prediction counted twice


def test_ties_in_time_go_to_the_label_later_in_the_log():
    (a,) = new_ids(1)
    joined, _ = join.join_labels(_predictions([a]), _labels([(a, "Gentoo", 5), (a, "Adelie", 5)]))
    assert joined["label"].tolist() == ["Adelie"]


def test_a_prediction_logged_twice_counts_once():
    a, b = new_ids(2)
    joined, counts = join.join_labels(_predictions([a, b, a]), _labels([(a, "Adelie", 1)]))
    assert len(joined) == 2 and counts.duplicate_predictions == 1


def _answer(label: str, pid: str) -> dict:
    return {"species": label, "prediction_id": pid,
            "probabilities": {c: float(c == label) for c in CLASSES}}  # fmt: skip


def test_torn_and_malformed_lines_are_skipped_and_counted(tmp_path):
    ids = new_ids(3)
    inputs = {"island": "Biscoe", "bill_length_mm": 40.0}
    logged = Classification(CLASSES).logged
    records = [
        make_record(inputs, "v1", T0, _answer("Adelie", pid), "species", logged) for pid in ids
    ]
    write_batch(records, tmp_path)
    old_format = make_record(inputs, "v0", T0)  # before prediction ids: still a prediction
    with open(sorted(tmp_path.glob("*.jsonl"))[0], "a") as log:
        log.write(json.dumps(old_format) + "\n")
        log.write("[1, 2]\n" + '{"timestamp": "yesterday", "inputs": {}}\n')
        log.write('{"timestamp": "2025-06-01T00:00:00+00:00", "inp')  # torn last line
    read = sources.read_request_log(tmp_path, Classification(CLASSES))
    assert (read.lines, read.skipped) == (7, 3)
    assert read.frame["prediction_id"].tolist()[:3] == ids
    assert read.frame["predicted"].tolist()[:3] == ["Adelie"] * 3
    assert read.frame["proba_adelie"].tolist()[:3] == [1.0] * 3
    assert read.frame["prediction_id"].isna().tolist() == [False] * 3 + [True]
    assert read.frame["bill_length_mm"].tolist() == [40.0] * 4


def test_feedback_log_reader_counts_bad_lines(tmp_path):
    (pid,) = new_ids(1)
    write_batch(feedback_records([(pid, "Gentoo")], "http", T0), tmp_path)
    (tmp_path / "zz-torn.jsonl").write_text('{"prediction_id": "x", "lab')
    read = sources.read_feedback_log(tmp_path)
    assert read.frame["label"].tolist() == ["Gentoo"] and read.skipped == 1


def test_a_large_log_file_is_read_in_pieces_and_a_long_line_skipped(tmp_path, monkeypatch):
    from tabml.monitoring import log_lines

    monkeypatch.setattr(log_lines, "GROUP_BYTES", 2_000)  # pieces of ~2 kB, not 32 MiB
    monkeypatch.setattr(log_lines, "MAX_LINE_BYTES", 2_000)
    ids = new_ids(60)
    inputs = {"island": "Biscoe", "bill_length_mm": 40.0}
    logged = Classification(CLASSES).logged
    lines = [json.dumps(make_record(inputs, "v1", T0, _answer("Adelie", pid), "species", logged))
             for pid in ids]  # fmt: skip
    overlong = json.dumps({**json.loads(lines[0]), "note": "x" * 7_000})
    (tmp_path / "big.jsonl").write_text("\n".join([*lines[:30], overlong, *lines[30:]]) + "\n")
    read = sources.read_request_log(tmp_path, Classification(CLASSES))
    assert read.frame["prediction_id"].tolist() == ids and read.skipped == 1


def _window(start: str, labelled: int, breaches: list[str]) -> dict:
    return {"start": start, "judged": labelled >= 100, "breaches": breaches}


@pytest.mark.parametrize(
    ("n", "m", "expected"),
    [(1, 1, alerts.OK), (1, 2, alerts.ALERT), (2, 3, alerts.OK), (1, 3, alerts.ALERT)],
)
def test_n_of_m_windows_rule(n, m, expected):
    windows = [
        _window("d1", 200, []),
        _window("d2", 200, ["accuracy low"]),
        _window("d3", 20, ["not judged: too few labels"]),
        _window("d4", 200, []),
    ]
    verdict, _ = alerts.version_verdict(windows, MonitorParams(alert_windows=n, of_windows=m))
    assert verdict == expected


def test_no_judged_window_gives_no_verdict():
    verdict, reasons = alerts.version_verdict([_window("d1", 10, [])], MonitorParams())
    assert verdict == alerts.NO_VERDICT and "100 labelled" in reasons[0]


def test_limits_are_the_floor_or_the_test_metric_minus_the_drop():
    limits = alerts.metric_limits({"accuracy": 0.95, "f1_macro": 0.80}, MonitorParams(),
                                  {"accuracy": 0.85, "f1_macro": 0.85})  # fmt: skip
    assert limits["accuracy"]["limit"] == pytest.approx(0.90)  # 0.95 - 0.05 beats the floor
    assert limits["f1_macro"]["limit"] == pytest.approx(0.85)  # the floor beats 0.80 - 0.05
    window = {"accuracy": 0.8, "accuracy_low": 0.75, "accuracy_high": 0.89,
              "f1_macro": 0.84, "f1_macro_low": 0.80, "f1_macro_high": 0.88}  # fmt: skip
    assert [b.split()[0] for b in alerts.breaches(window, limits)] == ["accuracy"]


@pytest.mark.parametrize("text", ["1d", "6h", "30min"])
def test_window_lengths_parse(text):
    assert join.parse_window(text) == pd.Timedelta(text)


@pytest.mark.parametrize("text", ["soon", "-1d", "0s"])
def test_bad_window_lengths_are_user_errors(text):
    with pytest.raises(join.WindowError, match=repr(text)):
        join.parse_window(text)


def test_since_takes_a_time_or_a_duration_back():
    now = pd.Timestamp("2025-06-10T00:00:00Z")
    assert join.parse_since("2025-06-01", now) == pd.Timestamp("2025-06-01T00:00:00Z")
    assert join.parse_since("7d", now) == pd.Timestamp("2025-06-03T00:00:00Z")


def test_missing_and_malformed_ids_never_match():
    (a,) = new_ids(1)
    predictions = _predictions([a, None, None])  # lines from before prediction ids
    labels = _labels([(a, "Gentoo", 1), ("short", "Adelie", 2), ("é" * 36, "Adelie", 3)])
    joined, counts = join.join_labels(predictions, labels)
    assert joined["label"].iat[0] == "Gentoo" and joined["label"].iloc[1:].isna().all()
    assert (counts.matched, counts.unmatched, counts.duplicate_predictions) == (1, 2, 0)


def _joined(day: int, n: int, correct: int, labelled: int, confidence: float) -> pd.DataFrame:
    """n predictions of 'Adelie' on day `day`, `labelled` of them labelled, `correct` right."""
    truth = ["Adelie"] * correct + ["Gentoo"] * (labelled - correct) + [None] * (n - labelled)
    rest = (1 - confidence) / 2
    return pd.DataFrame({
        "prediction_id": new_ids(n),
        "timestamp": pd.Timestamp(T0) + pd.Timedelta(days=day, minutes=1),
        "model_version": "v1", "predicted": "Adelie", "source": "batch", "label": truth,
        "proba_adelie": confidence, "proba_chinstrap": rest, "proba_gentoo": rest,
    })  # fmt: skip


def test_windows_report_coverage_estimates_and_the_verdict():
    from tabml.monitoring.live_report import live_report
    from tabml.params import DriftParams

    joined = pd.concat([_joined(0, 200, 200, 200, 0.9), _joined(1, 400, 60, 120, 0.8)])
    metadata = {"v1": bare_metadata(metrics={"accuracy": 0.95, "f1_macro": 0.9})}
    (report,) = live_report(
        joined.reset_index(drop=True), metadata, CLASSES, pd.Timedelta("1D"),
        MonitorParams(), {"accuracy": 0.85}, DriftParams(),
    ).values()  # fmt: skip
    first, second = report["windows"]
    assert (first["predictions"], first["labelled"], first["coverage"]) == (200, 200, 1.0)
    assert first["accuracy"] == 1.0 and first["f1_macro"] == 1.0 and not first["breaches"]
    assert second["coverage"] == pytest.approx(120 / 400)
    assert second["estimated_accuracy"] == pytest.approx(0.8)  # mean max-probability
    assert second["accuracy"] == pytest.approx(0.5) and second["judged"]
    assert second["breaches"][0].startswith("accuracy 0.500")
    assert report["verdict"] == alerts.ALERT
    assert first["drift"]["status"] == "skipped"  # batch rows carry no inputs
    assert report["overall"]["predictions"] == 600


def test_a_value_logged_with_another_type_still_reads(tmp_path):
    # pyarrow refuses a column that changes type; the reader falls back, losing no line.
    lines = [{"timestamp": "2025-06-01T00:00:00+00:00", "inputs": {"bill_length_mm": v}}
             for v in (40.0, "forty")]  # fmt: skip
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    read = sources.read_request_log(tmp_path, Classification(CLASSES))
    assert (read.lines, read.skipped) == (2, 0)
    assert read.frame["bill_length_mm"].tolist() == [40.0, "forty"]


def _served(folder, version: str, start: int, count: int, truth: str, source: str = "http"):
    """`count` predictions of Adelie by `version` from `start` s after T0, labelled `truth`."""
    from tabml.serving.feedback import write_labels

    ids = new_ids(count)
    inputs = {"island": "Biscoe", "bill_length_mm": 40.0}
    when = [T0 + timedelta(seconds=start + i) for i in range(count)]
    logged = Classification(CLASSES).logged
    records = [make_record(inputs, version, at, _answer("Adelie", pid), "species", logged)
               for at, pid in zip(when, ids, strict=True)]  # fmt: skip
    write_batch(records, folder / "requests", start)
    write_labels([(pid, truth) for pid in ids], source, folder / "feedback", max_bytes=10**9)
    return ids


def _monitor(folder, packaged, since: str | None = None, **inputs):
    from tabml import paths
    from tabml.monitoring.monitor import MonitorInputs, run_monitor
    from tabml.params import GatesParams, load_params

    where = MonitorInputs(folder / "requests", folder / "feedback", packaged / paths.BENTO_ARCHIVE,
                          bentoml_home=folder / "store", **inputs)  # fmt: skip
    gates = GatesParams(min={"accuracy": 0.85, "f1_macro": 0.85})
    return run_monitor(where, load_params(), folder / "out", "1d", since, gates)


def test_a_replaced_version_is_reported_but_does_not_alert(tmp_path, packaged):
    _served(tmp_path, "tabml_model:old", 0, 120, "Gentoo")  # all wrong: breaks the floor
    _served(tmp_path, "tabml_model:new", 600, 120, "Adelie")  # after it: the old one retired
    result = _monitor(tmp_path, packaged, names={"tabml_model:old": "v1.0.0"})
    versions = result.report["versions"]
    old, new = versions["tabml_model:old"], versions["tabml_model:new"]
    assert old["verdict"] == alerts.ALERT and old["retired"]
    assert old["replaced_by"] == "tabml_model:new" and old["registry_version"] == "v1.0.0"
    assert new["verdict"] == alerts.OK and not new["retired"]
    assert not result.alert
    assert "v1.0.0 (tabml_model:old)  ALERT (retired: replaced by tabml_model:new; reported, " \
        "not alerted on)  1 of the last 1 judged windows" in "\n".join(result.lines)  # fmt: skip
    metrics = json.loads((tmp_path / "out/metrics.json").read_text())["versions"]
    assert (metrics["tabml_model:old"]["alert"], metrics["tabml_model:old"]["retired"]) == (0, 1)
    # the version in prod is never retired: its alert counts
    assert _monitor(tmp_path, packaged, in_stage=frozenset({"tabml_model:old"})).alert


def test_versions_serving_side_by_side_both_alert(tmp_path, packaged):
    _served(tmp_path, "tabml_model:old", 0, 120, "Gentoo")
    _served(tmp_path, "tabml_model:new", 60, 120, "Adelie")  # interleaved in time
    result = _monitor(tmp_path, packaged)
    assert not any(v["retired"] for v in result.report["versions"].values())
    assert result.alert


def test_a_source_can_be_left_out_and_labels_are_counted_per_source(tmp_path, packaged):
    ids = _served(tmp_path, "tabml_model:new", 0, 120, "Adelie", "file:truth.csv")
    from tabml.serving.feedback import write_labels

    write_labels([(pid, "Gentoo") for pid in ids], "http:vandal", tmp_path / "feedback",
                 max_bytes=10**9)  # later, wrong: the last label wins  # fmt: skip
    spoiled = _monitor(tmp_path, packaged)
    assert spoiled.alert
    assert spoiled.report["labels_by_source"] == {"file:truth.csv": 120, "http:vandal": 120}
    clean = _monitor(tmp_path, packaged, exclude_sources=("http",))  # http:* left out too
    assert not clean.alert and clean.report["excluded_labels"] == 120
    assert clean.report["versions"]["tabml_model:new"]["overall"]["accuracy"] == 1.0


def test_labels_of_predictions_before_since_are_outside_the_window_not_unmatched(
    tmp_path, packaged
):
    _served(tmp_path, "tabml_model:new", 0, 120, "Adelie")
    _served(tmp_path, "tabml_model:new", 7200, 120, "Adelie")  # two hours later
    (stranger,) = new_ids(1)
    from tabml.serving.feedback import write_labels

    write_labels([(stranger, "Adelie")], "http", tmp_path / "feedback", max_bytes=10**9)
    since = (T0 + timedelta(hours=1)).isoformat()
    result = _monitor(tmp_path, packaged, since=since)
    counts = result.report["join"]
    assert (counts["matched"], counts["before_since"], counts["unmatched"]) == (120, 120, 1)
    assert result.report["predictions"] == 120
