import json

import pytest

from tabml import atomic


def test_write_json_is_sorted_and_stable(tmp_path):
    target = tmp_path / "out" / "m.json"
    atomic.write_json(target, {"b": 1, "a": 2})
    first = target.read_bytes()
    atomic.write_json(target, {"a": 2, "b": 1})
    assert target.read_bytes() == first
    assert json.loads(first) == {"a": 2, "b": 1}


def test_crash_while_writing_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old model")

    def crash(tmp):
        tmp.write_bytes(b"half of a new mod")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic.write_with(target, crash)
    assert target.read_bytes() == b"old model"
    assert list(tmp_path.iterdir()) == [target]


def test_crash_on_first_write_leaves_nothing(tmp_path):
    target = tmp_path / "new.csv"
    with pytest.raises(ValueError):
        atomic.write_with(target, lambda tmp: (_ for _ in ()).throw(ValueError("boom")))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_nan_is_refused_in_json(tmp_path):
    with pytest.raises(ValueError):
        atomic.write_json(tmp_path / "m.json", {"x": float("nan")})
    assert not (tmp_path / "m.json").exists()
