"""Prediction ids: UUIDv7 (version and variant bits, time prefix), unique, sortable by time."""

import time
import uuid

from tabml.scoring.prediction_ids import PATTERN, IdGenerator, identify, new_ids, timestamp_ms


def test_ids_are_uuid7_with_the_current_time():
    before = time.time_ns() // 1_000_000
    ids = new_ids(3) + new_ids(100)  # both paths: plain ints and numpy
    after = time.time_ns() // 1_000_000
    for text in ids:
        parsed = uuid.UUID(text)  # the standard library as the reference parser
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text and PATTERN.match(text)
        assert before <= timestamp_ms(text) <= after
        assert parsed.int >> 80 == timestamp_ms(text)


def test_ids_strictly_increase_within_a_process_and_are_unique():
    generator = IdGenerator()
    ids = [i for n in (1, 5, 17, 1000, 2, 40_000) for i in generator.new_ids(n)]
    assert len(set(ids)) == len(ids) == 41_025
    assert ids == sorted(ids)  # text order is time order (lowercase hex, fixed width)
    assert [uuid.UUID(i).int for i in ids] == sorted(uuid.UUID(i).int for i in ids)


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch):
    generator = IdGenerator()
    first = generator.new_ids(2)
    now = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: now - 5_000_000_000)  # 5 s back
    later = generator.new_ids(20)
    assert first[-1] < later[0] and later == sorted(later)


def test_ids_of_two_generators_in_the_same_millisecond_differ():
    a, b = IdGenerator().new_ids(500), IdGenerator().new_ids(500)
    assert not set(a) & set(b)


def test_identify_gives_each_answer_an_id_and_the_version():
    answers = identify([{"species": "Adelie"}, {"species": "Gentoo"}], "tabml_model:abc")
    assert {a["model_version"] for a in answers} == {"tabml_model:abc"}
    assert answers[0]["prediction_id"] < answers[1]["prediction_id"]
