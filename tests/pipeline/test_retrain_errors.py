"""`make harvest` / `make retrain` that cannot run: one `error:` line, exit 1, nothing changed."""

from testkit import run, tool_env


def cli(repo, *args, **env):
    return run(["python", "-m", "tabml.cli", *args], repo, check=False,
               env={**tool_env(repo), **env})  # fmt: skip


def test_retrain_without_a_version_in_prod_is_one_error_line(repo):
    head = run(["git", "rev-parse", "HEAD"], repo).stdout
    result = cli(repo, "retrain")
    assert result.returncode == 1
    assert result.stderr.startswith("error: no version of model is in stage prod")
    assert "make promote" in result.stderr and "Traceback" not in result.stderr
    assert run(["git", "rev-parse", "HEAD"], repo).stdout == head
    assert not (repo / ".git/tabml-retrain/challenger").exists()


def test_harvest_without_labelled_predictions_is_one_error_line(repo, tmp_path):
    logs = {"TABML_REQUEST_LOG_DIR": str(tmp_path / "r"), "TABML_FEEDBACK_LOG_DIR": str(tmp_path)}
    result = cli(repo, "harvest", **logs)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no labelled predictions: 0 logged")
    assert "Traceback" not in result.stderr
    assert not (repo / "data/production").exists()
    assert run(["git", "status", "--porcelain"], repo).stdout == ""
