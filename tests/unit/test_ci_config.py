"""The workflows (PR review, scheduled retrain) and the pre-commit config: valid, secure,
pinned, and in step with the lock."""

import re
import sys
from pathlib import Path

import pytest
import yaml

from testkit import ROOT, run

WORKFLOW = ROOT / ".github" / "workflows" / "review.yml"
RETRAIN = ROOT / ".github" / "workflows" / "retrain.yml"
CANARY = ROOT / ".github" / "workflows" / "canary.yml"
WORKFLOWS = pytest.mark.parametrize("workflow", [WORKFLOW, RETRAIN, CANARY], ids=lambda p: p.name)
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
TOOLS = Path(sys.executable).parent


def _locked(package: str) -> str:
    match = re.search(rf"^{package}==([^\s\\]+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, package
    return match.group(1)


@pytest.mark.integration  # the checker in a child process
@WORKFLOWS
def test_workflow_matches_the_github_workflow_schema(workflow):
    # the schema ships inside the check-jsonschema wheel: no network needed
    result = run(
        [
            str(TOOLS / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@WORKFLOWS
def test_zizmor_finds_nothing_even_pedantic(workflow):
    result = run(
        [str(TOOLS / "zizmor"), "--offline", "--persona", "pedantic", str(workflow)],
        ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


@WORKFLOWS
def test_every_action_is_pinned_by_full_commit_sha(workflow):
    uses = re.findall(r"uses:\s*(\S+)", workflow.read_text())
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action


def test_workflow_runs_setup_repro_report_gate_and_comments():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["review"]["steps"]
    commands = [s.get("run", "") for s in steps]
    order = ["make setup", "make repro", "make report", "gh pr comment", "make gate"]
    positions = [next(i for i, c in enumerate(commands) if name in c) for name in order]
    assert positions == sorted(positions)


def test_retrain_workflow_is_scheduled_and_proposes_instead_of_pushing_to_main():
    workflow = yaml.safe_load(RETRAIN.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    steps = workflow["jobs"]["retrain"]["steps"]
    commands = [s.get("run", "") for s in steps]
    order = ["make setup", "tabml.cli monitor", "tabml.cli retrain", "make report", "gh pr create"]
    positions = [next(i for i, c in enumerate(commands) if name in c) for name in order]
    assert positions == sorted(positions)
    retrain = next(c for c in commands if "tabml.cli retrain" in c)
    assert "--no-promote" in retrain  # stages are assigned after review, not by the job
    pushes = [line for c in commands for line in c.splitlines() if "git push" in line]
    assert pushes and all("refs/heads/${BRANCH}" in line for line in pushes)
    assert "main" not in " ".join(pushes)
    # The retrain step runs on an alert (monitor's exit 3) or on the schedule.
    condition = next(s["if"] for s in steps if "tabml.cli retrain" in s.get("run", ""))
    assert "steps.monitor.outputs.code == '3'" in condition and "schedule" in condition


def test_canary_workflow_is_weekly_and_reports_in_an_issue_only_when_something_moved():
    workflow = yaml.safe_load(CANARY.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "2"]  # once a week
    job = workflow["jobs"]["canary"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    steps = job["steps"]
    commands = [s.get("run", "") for s in steps]
    order = ["make setup", "tabml.cli canary", "gh issue"]
    positions = [next(i for i, c in enumerate(commands) if name in c) for name in order]
    assert positions == sorted(positions)
    issue = next(s for s in steps if "gh issue" in s.get("run", ""))
    assert issue["if"] == "${{ steps.canary.outputs.code == '3' }}"
    # exit 3 (something moved) must not fail the job before the issue step; other codes do
    canary = next(c for c in commands if "tabml.cli canary" in c)
    assert "set +e" in canary and '-ne 3 ]; then exit "$code"' in canary


@pytest.mark.integration  # the checker in a child process
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
