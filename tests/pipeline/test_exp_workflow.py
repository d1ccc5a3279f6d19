"""Real `dvc exp run`, a real two-variant queue, `make best`, `make report` and `make gate`.

One temporary copy of the repo serves the whole module; the tests run in file order and
build on each other (exp run -> sweep -> best -> apply + report + gate -> regressed gate).
Experiments stop at the `evaluate` stage (as `make sweep` does by default), so stages added
after it do not slow these tests down.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tabml.experiments.runs import flatten
from tabml.model.gates import slice_checks
from tabml.params import SliceGatesParams
from testkit import make_cmd, run

GRID = "random_forest:\n  max_depth: [2]\ngradient_boosting:\n  n_estimators: [15]\n"


def make(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(make_cmd(*args), repo, check=check)


def exp_show(repo: Path) -> list[dict]:
    """Finished experiments straight from `dvc exp show --json`: name, params, metrics."""
    rows = []
    for baseline in json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout):
        for exp in baseline.get("experiments") or []:
            data = exp["revs"][0]["data"]
            if not data or not data.get("metrics"):
                continue
            rows.append(
                {
                    "name": exp["name"],
                    "params": flatten(data["params"]["params.yaml"]["data"]),
                    "metrics": data["metrics"]["reports/metrics.json"]["data"],
                }
            )
    return rows


def cell(value) -> str:
    """How the report prints a value (floats with 6 significant digits)."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def exp_commit(repo: Path, name: str) -> str:
    """The git commit of a finished experiment (DVC keeps it under refs/exps/)."""
    refs = run(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps"], repo)
    [commit] = [
        line.split()[1] for line in refs.stdout.splitlines() if line.split()[0].endswith(f"/{name}")
    ]
    return commit


def metrics(repo: Path) -> dict:
    return json.loads((repo / "reports" / "metrics.json").read_text())


@pytest.fixture(scope="module")
def repo(reproduced, tmp_path_factory):
    # a private copy of the session's reproduced repo (git history and DVC cache included)
    repo = Path(shutil.copytree(reproduced, tmp_path_factory.mktemp("exp") / "repo", symlinks=True))
    # The base is a deliberately weak model (a strongly regularised logistic regression), so
    # an experiment can beat it by more than the gates' max regression; the committed base
    # names the outputs now in the cache.
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["model"] = "logistic_regression"
    params["train"]["logistic_regression"]["C"] = 0.02
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro", "evaluate"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "weak base"], repo)
    yield repo
    run(["dvc", "queue", "stop"], repo, check=False)


@pytest.fixture(scope="module")
def base_metrics(repo) -> dict:
    return metrics(repo)


def test_queue_refuses_untracked_and_unstaged_inputs(repo, base_metrics):
    (repo / "src" / "tabml" / "scratch.py").write_text("HELPER = 1\n")
    profile = repo / "configs" / "penguins.yaml"
    profile.write_text(profile.read_text() + "# edited\n")
    try:
        result = make(repo, "sweep", check=False)
    finally:
        (repo / "src" / "tabml" / "scratch.py").unlink()
        run(["git", "checkout", "--", "configs/penguins.yaml"], repo)
    assert result.returncode != 0
    assert "src/tabml/scratch.py" in result.stderr and "configs/penguins.yaml" in result.stderr
    assert "git add" in result.stderr
    assert exp_show(repo) == []  # nothing was queued


def test_exp_run_with_a_param_override_shows_params_and_metrics(repo, base_metrics):
    sets = ["-S", "train.logistic_regression.C=1.0"]
    run(["dvc", "exp", "run", *sets, "evaluate"], repo)
    [row] = exp_show(repo)
    assert row["params"]["train.logistic_regression.C"] == 1.0
    assert row["metrics"] == metrics(repo)  # dvc exp run leaves its results in the workspace
    assert row["metrics"]["f1_macro"] != base_metrics["f1_macro"]
    table = run(["dvc", "exp", "show", "--md", "--no-pager"], repo).stdout.splitlines()[0]
    assert "train.logistic_regression.C" in table and "f1_macro" in table and "log_loss" in table


def test_report_lists_every_changed_param_and_metric_with_correct_deltas(repo, base_metrics):
    # the workspace holds the experiment's results (previous test)
    new = metrics(repo)
    make(repo, "report")
    report = (repo / "reports" / "review" / "report.md").read_text()

    old_params = flatten(yaml.safe_load(run(["git", "show", "main:params.yaml"], repo).stdout))
    new_params = flatten(yaml.safe_load((repo / "params.yaml").read_text()))
    changed = {k for k in new_params if new_params[k] != old_params.get(k)}
    assert changed == {"train.logistic_regression.C"}
    for key in changed:
        assert f"| `{key}` | {cell(old_params[key])} | {cell(new_params[key])} |" in report
    for metric, value in flatten(new).items():  # baseline.* too, as dvc flattens them
        old = flatten(base_metrics)[metric]
        change = round(value - old, 6)
        relative = f"{100 * change / abs(old):+.2f}%"
        assert f"| {metric} | {cell(old)} | {cell(value)} | {change:+.6g} | {relative} |" in report
    assert "Base metrics: the DVC cache." in report
    html = (repo / "reports" / "review" / "plots" / "index.html").read_text()
    assert "<script src" not in html and "cdn." not in html
    # 12 gates (min, max, min_lift, every class predicted, max_regression), and f1_macro on every
    # slice of >= 20 test rows
    slices = json.loads((repo / "reports" / "slices.json").read_text())
    gated = slice_checks(slices, SliceGatesParams())
    assert gated > 0 and f"All {12 + gated} gates pass." in report
    assert f"ok: all {12 + gated} gates pass" in make(repo, "gate").stdout


def test_gate_fails_on_a_regressed_metric_naming_value_threshold_and_base(repo, base_metrics):
    [strong] = exp_show(repo)
    run(["git", "checkout", "--", "params.yaml", "dvc.lock"], repo)
    run(["dvc", "checkout", "--quiet"], repo)
    assert metrics(repo) == base_metrics
    # against the strong experiment as base, the committed model is a regression
    value, base = base_metrics["f1_macro"], strong["metrics"]["f1_macro"]
    assert base - value > 0.02

    result = make(repo, "gate", f"BASE={exp_commit(repo, strong['name'])}", check=False)

    assert result.returncode != 0
    expected = (
        f"f1_macro = {value:.6g} regressed by {base - value:.6g} from base {base:.6g} "
        "(max regression 0.02)"
    )
    assert expected in result.stderr


def test_gate_fails_below_an_absolute_minimum(repo, base_metrics):
    params_file = repo / "params.yaml"
    committed = params_file.read_text()
    params = yaml.safe_load(committed)
    params["gates"]["min"]["f1_macro"] = 0.95
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        result = make(repo, "gate", check=False)
    finally:
        params_file.write_text(committed)
    value = base_metrics["f1_macro"]
    assert result.returncode != 0
    assert f"f1_macro = {value:.6g} is below the minimum 0.95 (base {value:.6g})" in result.stderr


@pytest.mark.slow
def test_sweep_queues_the_grid_runs_it_and_prints_the_table(repo):
    (repo / "tiny_grid.yaml").write_text(GRID)
    result = make(repo, "sweep", "GRID=tiny_grid.yaml")
    rows = {r["params"]["train.model"]: r for r in exp_show(repo)}
    assert {"random_forest", "gradient_boosting"} <= set(rows)
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for model in ("random_forest", "gradient_boosting"):
        [line] = [t for t in table if f" {model} " in t and "success" in t]
        assert f"| {cell(rows[model]['metrics']['f1_macro'])} |" in line
    assert run(["git", "status", "--porcelain", "params.yaml"], repo).stdout == ""
    # progress while waiting, ending with every experiment done
    progress = re.findall(
        r"^sweep: (\d+)/2 done, \d+ running, \d+ queued; \d+m\d\ds$", result.stdout, re.M
    )
    assert progress and progress[-1] == "2"


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "pick"), [("f1_macro", max), ("log_loss", min)])
def test_best_picks_the_right_experiment_for_the_metric_direction(repo, metric, pick):
    candidates = exp_show(repo)
    assert len(candidates) >= 2
    expected = pick(candidates, key=lambda r: r["metrics"][metric])
    output = make(repo, "best", f"METRIC={metric}").stdout
    name, value = re.search(rf"^best: (\S+) {metric}=(\S+)", output, re.M).groups()
    assert name == expected["name"]
    assert float(value) == expected["metrics"][metric]


@pytest.mark.slow
def test_best_apply_and_branch(repo):
    expected = min(exp_show(repo), key=lambda r: r["metrics"]["log_loss"])
    make(repo, "best", "METRIC=log_loss", "APPLY=1", "BRANCH=best-log-loss")
    assert metrics(repo) == expected["metrics"]
    params = yaml.safe_load(run(["git", "show", "best-log-loss:params.yaml"], repo).stdout)
    assert flatten(params) == expected["params"]
    run(["git", "checkout", "--", "params.yaml", "dvc.lock"], repo)
    run(["dvc", "checkout", "--quiet"], repo)


@pytest.mark.slow
def test_report_reproduces_a_base_missing_from_the_cache(repo, tmp_path, base_metrics):
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)  # no DVC cache at all
    params = yaml.safe_load((clone / "params.yaml").read_text())
    params["train"]["model"] = "gradient_boosting"
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro", "evaluate"], clone)

    make(clone, "report", "REPRODUCE_BASE=0")
    unavailable = (clone / "reports" / "review" / "report.md").read_text()
    assert "Base metrics: unavailable" in unavailable
    assert "| f1_macro | - |" in unavailable

    make(clone, "report")
    report = (clone / "reports" / "review" / "report.md").read_text()
    assert "Base metrics: reproduced" in report
    assert f"| f1_macro | {base_metrics['f1_macro']:.6g} |" in report
    assert len(run(["git", "worktree", "list"], clone).stdout.splitlines()) == 1
