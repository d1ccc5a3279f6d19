from pathlib import Path

import pytest

from tabml.params import ParamsError, load_params


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


@pytest.mark.parametrize(
    ("content", "named", "says"),
    [
        ("split:\n  seed: -1\n", r"split\.seed", "greater than or equal to 0"),
        ("split:\n  seed: 4294967296\n", r"split\.seed", "less than or equal to 4294967295"),
        ("train:\n  seed: true\n", r"train\.seed", "valid integer"),  # not 1
        ("train:\n  seed: '7'\n", r"train\.seed", "valid integer"),  # text is not a number
        ("train:\n  seed: 7.0\n", r"train\.seed", "valid integer"),
        ("gates:\n  min:\n    accuracy: .nan\n", r"gates\.min\.accuracy", "finite number"),
        ("gates:\n  max:\n    log_loss: .inf\n", r"gates\.max\.log_loss", "finite number"),
        ("gates:\n  max_regression:\n    accuracy: -0.1\n", r"gates\.max_regression\.accuracy",
         "greater than or equal to 0"),
        ("gates:\n  min:\n    accuracy: yes\n", r"gates\.min\.accuracy", "valid number"),
        ("drift:\n  ks_alpha: .nan\n", r"drift\.ks_alpha", "finite number"),
        ("drift:\n  psi_warning: 0.5\n", r"drift", "must not exceed psi_drift"),
        ("validate:\n  min_rows: 2.5\n", r"validate\.min_rows", "valid integer"),
        ("validate:\n  min_rows: false\n", r"validate\.min_rows", "valid integer"),
        ("train:\n  random_forest:\n    max_depth: true\n", r"train\.random_forest\.max_depth",
         "valid integer"),
        ("train:\n  logistic_regression:\n    C: .inf\n", r"train\.logistic_regression\.C",
         "finite number"),
        ("package:\n  parity_tolerance: true\n", r"package\.parity_tolerance", "valid number"),
        ("package:\n  max_records: 1000000000000\n", r"package\.max_records",
         "less than or equal to 10000"),  # the body cap would be 2 TB
        ("data:\n  profile: ../../etc/passwd\n", r"data\.profile", "should match pattern"),
        ("unknown_section:\n  x: 1\n", r"unknown_section", "Extra inputs are not permitted"),
        ("validate_:\n  min_rows: 3\n", r"validate_", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_every_value_is_strictly_typed_and_in_range(tmp_path, content, named, says):
    path = tmp_path / "params.yaml"
    path.write_text(content)
    with pytest.raises(ParamsError, match=named) as err:
        load_params(path)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_the_committed_params_file_plus_one_unknown_key_is_refused(tmp_path):
    # The real file, not a fragment: an unknown top-level key next to every valid section.
    path = tmp_path / "params.yaml"
    path.write_text(Path("params.yaml").read_text() + "\nexperimental: true\n")
    with pytest.raises(ParamsError, match=r"experimental: Extra inputs are not permitted"):
        load_params(path)


def test_integers_are_accepted_where_a_float_is_expected(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("train:\n  logistic_regression:\n    C: 1\ngates:\n  min:\n    accuracy: 0\n")
    params = load_params(path)
    assert params.train.logistic_regression.C == 1.0 and params.gates.min == {"accuracy": 0.0}


@pytest.mark.integration  # the stage in a child process
def test_a_bad_value_through_the_cli_is_one_line(tmp_path):
    import subprocess
    import sys

    from testkit import tool_env

    (tmp_path / "params.yaml").write_text("split:\n  seed: -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "tabml.stages.split"], cwd=tmp_path, env=tool_env(tmp_path),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: params.yaml: split.seed: Input should be greater than or equal to 0"
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("1e-05", 1e-05), ("1.0e-5", 1e-05), ("2E+3", 2000.0), ("0.00001", 1e-05)],
)
def test_a_float_written_with_an_exponent_and_no_dot_is_a_float(tmp_path, written, expected):
    """`dvc exp run -S train.logistic_regression.C=0.00001` writes `C: 1e-05`: YAML 1.1 (and
    so PyYAML) reads that as text, and strict params refused it ("valid number")."""
    path = tmp_path / "params.yaml"
    path.write_text(f"train:\n  logistic_regression:\n    C: {written}\n")
    read = load_params(path).train.logistic_regression.C
    assert read == expected


def test_quoted_numbers_stay_text(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("train:\n  logistic_regression:\n    C: '1e-05'\n")
    with pytest.raises(ParamsError, match=r"train\.logistic_regression\.C.*valid number"):
        load_params(path)
