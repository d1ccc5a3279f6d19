"""`dvc exp run -S train.logistic_regression.C=0.00001`: DVC writes `1e-05` into params.yaml,
which YAML 1.1 reads as text; the stages read it as the float it is (they refused it with
"Input should be a valid number")."""

from tabml import yaml_io
from testkit import run


def test_exp_run_with_a_small_float_on_the_command_line(repo):
    run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "lock"],
        repo,
        check=False,
    )  # fmt: skip  (the base commit names the outputs in the cache)
    result = run(
        ["dvc", "exp", "run", "-S", "train.model=logistic_regression",
         "-S", "train.logistic_regression.C=0.00001", "evaluate"],
        repo,
    )  # fmt: skip
    assert "Input should be a valid number" not in result.stdout + result.stderr
    written = (repo / "params.yaml").read_text()
    assert "C: 1e-05" in written  # what DVC writes: YAML 1.2, no dot
    assert yaml_io.load(written)["train"]["logistic_regression"]["C"] == 1e-05
    assert "logistic_regression fitted" in result.stdout
