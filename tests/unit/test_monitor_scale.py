"""The monitor's memory-lean path (logs read a group at a time into compact frames, ids as
numbers) reports exactly what the plain path does: plain frames read in one piece and
joined by a pandas reference of the join rules, on a generated log with duplicates,
relabels, unknown ids, ids that are not UUIDs, lines without ids and bad lines."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from tabml import paths
from tabml.monitoring import id_keys, join, log_lines, sources
from tabml.monitoring.model_versions import packaged_model
from tabml.monitoring.tasks import monitor_task
from tabml.params import GatesParams, load_params
from tabml.scoring.prediction_ids import new_ids
from tabml.scoring.task import task_for
from tabml.serving.feedback import feedback_records
from tabml.serving.log_writer import write_lines
from tabml.serving.request_log import make_record, write_batch

T0 = datetime(2025, 6, 1, tzinfo=UTC)
ROWS = 3_000
GATES = GatesParams(min={"accuracy": 0.85, "f1_macro": 0.85})


def _logs(folder, metadata, model_tag: str, seed: int = 7):
    """A request log and a feedback log with everything a real one may hold."""
    rng = np.random.default_rng(seed)
    classes = metadata.classes
    logged = task_for(metadata).logged
    ids = new_ids(ROWS)
    ids[:40] = [f"order-{i}" for i in range(40)]  # ids that are not UUIDs still join
    islands = np.array(["Biscoe", "Dream", "Torgersen", "Atlantis", None], dtype=object)
    records = []
    for i in range(ROWS):
        proba = rng.dirichlet(np.ones(len(classes)))
        answer = {"prediction_id": ids[i], "species": classes[int(proba.argmax())],
                  "probabilities": dict(zip(classes, proba.tolist(), strict=True))}  # fmt: skip
        inputs = {"island": islands[rng.integers(0, 5)], "sex": ["male", "female"][i % 2],
                  "bill_length_mm": float(np.round(rng.normal(44, 5), 1)),
                  "bill_depth_mm": 17.0, "flipper_length_mm": float(rng.integers(170, 232)),
                  "body_mass_g": float(rng.integers(2700, 6300)) if i % 50 else None,
                  }  # fmt: skip
        if i >= ROWS - 200:
            inputs.pop("sex")  # a feature the last groups do not log
        version = model_tag if i < ROWS * 2 // 3 else "tabml_model:other"
        when = T0 + timedelta(seconds=float(i * 3 * 86400 / ROWS))
        records.append(make_record(inputs, version, when, answer, "species", logged))
    for i in range(0, ROWS, 500):
        write_batch(records[i : i + 500], folder / "requests", i)
    old = make_record({"island": "Dream", "bill_length_mm": 40.0}, model_tag, T0)  # no id
    write_lines([json.dumps(old).encode() + b"\n"] * 3, folder / "requests", 90)
    copied = min((folder / "requests").glob("*.jsonl")).read_bytes()  # logged twice
    write_lines([copied, b"not json\n", b'{"inputs": {}}\n', b'{"timest'], folder / "requests", 91)

    truth = [classes[int(rng.integers(0, len(classes)))] for _ in range(ROWS)]
    labelled = rng.permutation(ROWS)[: ROWS * 8 // 10]
    first = [(ids[i], classes[0]) for i in labelled[:300]]  # relabelled later
    upper = [(ids[i].upper(), classes[1]) for i in labelled[300:310]]  # another id: unmatched
    unknown = [(u, classes[2]) for u in new_ids(150)]
    labels = feedback_records(first + upper + unknown, "http", T0 + timedelta(days=1))
    labels += feedback_records([(ids[i], truth[i]) for i in labelled], "file:a.csv",
                               T0 + timedelta(days=2))  # fmt: skip
    tie = [(ids[i], classes[1]) for i in labelled[:20]]  # same time, later in the log: wins
    labels += feedback_records(tie, "file:b.csv", T0 + timedelta(days=2))
    lines = [json.dumps(r).encode() + b"\n" for r in labels]
    write_lines([*lines, b'{"prediction_id": 5, "label": "x"}\n', b"\xff\n"], folder / "feedback")


def _reference_join(predictions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The join rules in plain pandas: a prediction id counts once (its first row), the label
    received last counts (ties: the later line)."""
    ids = predictions["prediction_id"]
    kept = predictions[~(ids.duplicated() & ids.notna())].reset_index(drop=True)
    newest = labels.sort_values("timestamp", kind="stable").drop_duplicates(
        "prediction_id", keep="last"
    )
    label = kept["prediction_id"].map(newest.set_index("prediction_id")["label"])
    kept["label"] = pd.Categorical(label.astype(object))
    return kept


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    floats = [c for c in frame.columns if frame[c].dtype in (np.float32, np.float64)]
    return frame.astype({c: np.float64 if c in floats else object for c in frame.columns})


def test_the_compact_chunked_path_reports_what_the_plain_path_does(tmp_path, packaged, monkeypatch):
    from tabml.monitoring.monitor import MonitorInputs, run_monitor

    archive = packaged / paths.BENTO_ARCHIVE
    tag, metadata = packaged_model(archive)
    _logs(tmp_path, metadata, tag)
    task = task_for(metadata)
    monkeypatch.setattr(log_lines, "GROUP_BYTES", 64_000)  # many groups, as at 10M rows
    where = MonitorInputs(tmp_path / "requests", tmp_path / "feedback", archive,
                          bentoml_home=tmp_path / "store")  # fmt: skip
    found = run_monitor(where, load_params(), tmp_path / "out", "1d", None, GATES).report

    # The compact reader holds the same rows and values as the plain one.
    compact = sources.read_request_log(tmp_path / "requests", task, compact=True)
    monkeypatch.setattr(log_lines, "GROUP_BYTES", 2**30)  # the plain path: one piece
    online = sources.read_request_log(tmp_path / "requests", task)
    labels = sources.read_feedback_log(tmp_path / "feedback")
    assert (compact.lines, compact.skipped) == (online.lines, online.skipped) == (3_506, 3)
    keys = id_keys.key_columns(online.frame["prediction_id"])
    for name, values in keys.items():
        assert np.array_equal(compact.frame[name].to_numpy(), values)
    same = online.frame.drop(columns="prediction_id")
    pd.testing.assert_frame_equal(_plain(compact.frame[same.columns]), _plain(same))

    joined = _reference_join(online.frame, labels.frame)
    expected = monitor_task(task).versions(
        joined, {tag: metadata}, task, pd.Timedelta("1d"), load_params(), GATES
    )
    versions = {v: {k: x for k, x in r.items() if k not in ("registry_version", "retired",
                                                              "replaced_by")}
                for v, r in found["versions"].items()}  # fmt: skip
    assert json.dumps(versions, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert set(versions) == {tag, "tabml_model:other"}
    assert found["predictions"] == len(joined) == ROWS + 3  # the copied file counted once
    labelled_ids = labels.frame["prediction_id"].nunique()
    matched = int(joined["label"].notna().sum())
    assert found["join"] == {"labels_received": len(labels.frame), "labelled_ids": labelled_ids,
                             "matched": matched, "unmatched": labelled_ids - matched,
                             "duplicate_predictions": 500, "before_since": 0}  # fmt: skip
    assert matched == ROWS * 8 // 10 and found["skipped_lines"] == 3 + 2


def test_ids_as_numbers_match_exactly_the_same_texts():
    uuids = new_ids(3)
    texts = pd.Series([*uuids, uuids[0].upper(), "order-1", "order-1", None, "", "é" * 40])
    keys = pd.DataFrame(id_keys.key_columns(texts))
    assert keys[id_keys.KIND].tolist() == [0, 0, 0, 1, 1, 1, 2, 1, 1]
    distinct = keys.drop_duplicates()
    assert len(distinct) == 8  # the two "order-1" are one id; every other text its own
    order = join.index_predictions(pd.DataFrame({"prediction_id": texts}))
    assert order.duplicated.tolist() == [False] * 5 + [True] + [False] * 3
    wanted = pd.DataFrame(id_keys.key_columns(pd.Series([uuids[1], "order-1", "order-2"])))
    position = id_keys.find(order.keys, tuple(wanted[c].to_numpy() for c in keys.columns))
    assert [order.rows[p] if p >= 0 else None for p in position] == [1, 4, None]


def test_a_uuid_is_its_128_bits_and_any_other_byte_makes_it_other_text():
    uuids = new_ids(50)
    keys = id_keys.key_columns(pd.Series(uuids))  # all 36 long: the fixed-width path
    assert keys[id_keys.KIND].tolist() == [id_keys.UUID] * 50
    bits = [(int(h) << 64) | int(lo) for h, lo in zip(keys[id_keys.HIGH], keys[id_keys.LOW])]
    assert bits == [uuid.UUID(u).int for u in uuids]  # the standard library's reading
    # Each byte value in place of the first hex digit: a UUID only for 0-9 and a-f.
    texts = [bytes([b]).decode("latin-1") + uuids[0][1:] for b in range(256)]
    kinds = id_keys.key_columns(pd.Series(texts))[id_keys.KIND]
    lowercase_hex = [chr(b) in "0123456789abcdef" for b in range(256)]
    assert (kinds == id_keys.UUID).tolist() == lowercase_hex
