"""The PR workflow and the pre-commit config: valid, secure, pinned, and in step with the lock."""

import re
import sys
from pathlib import Path

import yaml

from testkit import ROOT, run

WORKFLOW = ROOT / ".github" / "workflows" / "review.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
TOOLS = Path(sys.executable).parent


def _locked(package: str) -> str:
    match = re.search(rf"^{package}==([^\s\\]+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, package
    return match.group(1)


def test_workflow_matches_the_github_workflow_schema():
    # the schema ships inside the check-jsonschema wheel: no network needed
    result = run(
        [
            str(TOOLS / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_even_pedantic():
    result = run(
        [str(TOOLS / "zizmor"), "--offline", "--persona", "pedantic", str(WORKFLOW)],
        ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def test_every_action_is_pinned_by_full_commit_sha():
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text())
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action


def test_workflow_runs_setup_repro_report_gate_and_comments():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["review"]["steps"]
    commands = [s.get("run", "") for s in steps]
    order = ["make setup", "make repro", "make report", "gh pr comment", "make gate"]
    positions = [next(i for i, c in enumerate(commands) if name in c) for name in order]
    assert positions == sorted(positions)


def test_pre_commit_config_is_valid():
    result = run([str(TOOLS / "pre-commit"), "validate-config", str(PRE_COMMIT)], ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_hooks_match_the_locked_versions():
    repos = {r["repo"]: r for r in yaml.safe_load(PRE_COMMIT.read_text())["repos"]}
    ruff = repos["https://github.com/astral-sh/ruff-pre-commit"]
    assert ruff["rev"] == f"v{_locked('ruff')}"
    dvc = repos["https://github.com/treeverse/dvc"]
    assert dvc["rev"] == _locked("dvc")
    hooks = {h["id"] for h in dvc["hooks"]}
    assert hooks == {"dvc-pre-commit", "dvc-pre-push", "dvc-post-checkout"}
