from pathlib import Path

import pytest
import yaml

from tabml.params import Params, ParamsError, load_params


def test_committed_params_equal_the_code_defaults():
    # Every default in params.yaml is the one the code uses (and vice versa).
    assert load_params() == Params()


def test_committed_params_file_has_no_key_the_code_ignores(tmp_path):
    raw = yaml.safe_load(Path("params.yaml").read_text())
    dumped = Params().model_dump(by_alias=True)
    assert set(raw) == set(dumped)
    for section, values in raw.items():
        if isinstance(values, dict):
            assert set(values) == set(dumped[section]), section


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("train:\n  modle: random_forest\n", r"train\.modle"),  # unknown key
        ("split:\n  test_size: 1.5\n", r"split\.test_size"),  # invalid value
        ("train:\n  model: xgboost\n", r"train\.model"),  # unknown model family
        ("monitor:\n  alert_windows: 3\n  of_windows: 2\n", r"monitor: .*of_windows"),  # N > M
    ],
)
def test_bad_params_name_the_key(tmp_path, content, named):
    path = tmp_path / "params.yaml"
    path.write_text(content)
    with pytest.raises(ParamsError, match=named):
        load_params(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ParamsError, match="cannot read"):
        load_params(tmp_path / "nope.yaml")
