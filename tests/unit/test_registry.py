"""Registry pure parts: the metric gate and the artifact declared in dvc.yaml."""

import pytest

from tabml.registry import (
    RegistryError,
    artifact_name,
    check_gates,
    version_tag,
)

BASELINE = {"accuracy": 0.44, "f1_macro": 0.2, "roc_auc_ovr": 0.5, "log_loss": 1.07}
GOOD = {"accuracy": 0.93, "f1_macro": 0.92, "roc_auc_ovr": 0.99, "log_loss": 0.32}
GOOD["baseline"] = BASELINE


def test_good_metrics_pass_the_gate():
    assert check_gates(GOOD) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"f1_macro": 0.5}, "f1_macro"),
        ({"log_loss": 1.2}, "log_loss"),
        ({"accuracy": float("nan")}, "accuracy"),
        ({"roc_auc_ovr": None}, "roc_auc_ovr"),
    ],
)
def test_each_failing_metric_is_named(change, named):
    problems = check_gates({**GOOD, **change})
    # a missing value also fails its min_lift gate, if it has one: each line names it
    assert problems and all(p.startswith(named) for p in problems)
    # the absolute gate comes first, from the penguins profile
    assert "set gates." in problems[0] and "in configs/penguins.yaml or params.yaml" in problems[0]


def test_a_model_no_better_than_the_baseline_fails_the_relative_gate():
    problems = check_gates(
        {**GOOD, "roc_auc_ovr": 0.96, "baseline": {**BASELINE, "roc_auc_ovr": 0.95}}
    )
    assert len(problems) == 1
    assert (
        "beats the majority-class baseline 0.95 by 0.01, less than the minimum lift 0.05"
        in (problems[0])
    )


def test_the_model_artifact_comes_from_dvc_yaml(tmp_path):
    assert artifact_name() == "model"
    assert version_tag("v1.0.0") == "model@v1.0.0"
    bad = tmp_path / "dvc.yaml"
    bad.write_text("stages: {}\n")
    with pytest.raises(RegistryError, match="exactly one"):
        artifact_name(bad)


def test_a_stage_holds_its_latest_assignment_as_gto_show_says(tmp_path):
    """v1.0.0 -> prod, v1.1.0 -> prod, v1.0.0 -> prod again (a rollback): prod is v1.0.0."""
    import subprocess

    from gto import api

    from tabml.registry.stages import _after_newest_stage_tag, current_in_stage
    from testkit import tool_env

    env = {**tool_env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip

    def git(*args):
        return subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True,
                              capture_output=True, text=True).stdout  # fmt: skip

    git("init", "-q")
    for version in ("v1.0.0", "v1.1.0"):
        git("commit", "-q", "--allow-empty", "-m", version)
        api.register(str(tmp_path), "model", "HEAD", version=version, author="t",
                     author_email="t@t")  # fmt: skip
    assert current_in_stage("prod", "model", tmp_path) is None
    shown = []
    for version in ("v1.0.0", "v1.1.0", "v1.0.0"):
        _after_newest_stage_tag("model", tmp_path)  # GTO orders by whole seconds
        api.assign(str(tmp_path), "model", "prod", version=version, force=True, author="t",
                   author_email="t@t")  # fmt: skip
        # what `gto show model#prod` prints (the CLI calls this with these defaults)
        gto_show = [v["version"] for v in api.show(str(tmp_path), "model#prod")]
        shown.append((gto_show, current_in_stage("prod", "model", tmp_path)))
    assert shown == [(["v1.0.0"], "v1.0.0"), (["v1.1.0"], "v1.1.0"), (["v1.0.0"], "v1.0.0")]
    # GTO's own stage query ranks by SemVer: the two truths this module replaces
    found = api.find_versions_in_stage(str(tmp_path), "model", "prod", versions_per_stage=1)
    found = found if isinstance(found, list) else [found]
    assert found[0].version == "v1.1.0"
