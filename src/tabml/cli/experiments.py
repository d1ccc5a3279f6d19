"""Experiment and review commands of `python -m tabml.cli`: check-queue, sweep, best, report, gate.

Registered on the CLI app of `tabml.cli` (imported at its end); heavy imports (dvc, pydantic)
happen inside the commands so `--help` stays fast.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from tabml.cli import command, fail

GRID = Path("sweep.yaml")
BASE_HELP = "git revision to compare against (default: main, else origin/main)"
REPRODUCE_HELP = "reproduce the base in a temporary worktree when its metrics are not cached"
TARGET_HELP = "stage to run up to (the metrics and plots exist after it)"
BaseOption = Annotated[str, typer.Option(help=BASE_HELP)]
ReproduceOption = Annotated[bool, typer.Option(help=REPRODUCE_HELP)]
TargetOption = Annotated[str, typer.Option(help=TARGET_HELP)]


def _exit(message: str, code: int = 1) -> typer.Exit:
    return fail(message, code)


def _experiments(all_commits: bool = False) -> tuple[list, list]:
    from tabml.experiments.runs import parse_exp_show
    from tabml.tools import dvc_json

    return parse_exp_show(dvc_json(["exp", "show", *(["--all-commits"] if all_commits else [])]))


def _numeric_metrics(rows: list) -> list[str]:
    """Metric columns of the tables: the main metrics file's numbers, not the baseline's
    (the same for every model of a split) nor other files' (slices would make it wide)."""
    found = {k for r in rows for k, v in r.metrics.items() if isinstance(v, int | float)}
    return sorted(k for k in found if ":" not in k and not k.startswith("baseline."))


@command("check-queue")
def check_queue() -> None:
    """Refuse if files the pipeline needs are untracked or have unstaged changes."""
    from tabml.experiments.queue_check import git_problems, pipeline_inputs

    problems = git_problems(pipeline_inputs())
    if problems:
        raise _exit(problems.message(), 2)
    typer.echo("ok: every file the pipeline needs is tracked and staged")


@command("restore-baseline")
def restore_baseline() -> None:
    """Params, dvc.lock and outputs back to HEAD after `dvc exp run` (experiments are kept)."""
    from tabml.experiments.restore import restore_baseline as restore

    result = restore()
    what = ", ".join(result.restored) or "params.yaml and dvc.lock already equal HEAD"
    typer.echo(f"restored from HEAD ({result.commit}): {what}; outputs checked out (dvc checkout)")
    for change in result.undone:
        typer.echo(f"  {change}")
    if result.kept:
        typer.echo("left as they are (not the pipeline's state): " + ", ".join(result.kept))
    typer.echo("experiments are still listed by `dvc exp show`; `dvc exp apply <name>` for one")


@command("sweep")
def sweep(
    grid: Annotated[Path, typer.Option(help="grid: one section per model family")] = GRID,
    target: TargetOption = "evaluate",
    jobs: Annotated[int, typer.Option(help="parallel runs (dvc queue start -j)")] = 1,
    metric: Annotated[str, typer.Option(help="sort the table by this metric")] = "f1_macro",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the queue")] = 3600.0,
) -> None:
    """Queue the grid, run it with `dvc queue start`, wait, and print the results table."""
    from tabml.experiments import runs as ex
    from tabml.tools import dvc, start_workers

    started, since = time.monotonic(), time.time()
    check_queue()
    known = {e.name for e in _experiments()[1]}
    grid_runs = ex.load_grid(grid)
    for k, overrides in enumerate(grid_runs, 1):
        sets = [arg for o in overrides for arg in ("-S", o)]
        dvc(["exp", "run", "--queue", *sets, *([target] if target else [])])
        typer.echo(
            f"sweep: queued experiment {k} of {len(grid_runs)}: {' '.join(overrides)}; "
            f"{_elapsed(started)}"
        )
    # names are fixed at queue time; revs change when a queued run becomes a commit
    queued = {e.name for e in _experiments()[1] if e.name not in known}
    # its workers outlive it: started without a pipe, so progress shows while they run
    start_workers("dvc", ["queue", "start", "-j", str(jobs)])
    rows = _wait(queued, timeout, started, since)
    baseline = [b for b in _experiments()[0] if b.rev != "workspace"][:1]
    failed = [r for r in rows if r.state != "success"]
    shown = baseline + ex.rank(rows, metric) + failed
    typer.echo(ex.experiments_table(shown, ex.varying_params(shown), _numeric_metrics(rows)))
    if failed:
        names = ", ".join(r.name for r in failed)
        raise _exit(f"{len(failed)} experiment(s) failed: {names}; see `dvc queue logs <name>`")


# a progress line at least this often (seconds) while nothing changes
PROGRESS_EVERY = 30.0


def _elapsed(started: float) -> str:
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    return f"{minutes}m{seconds:02d}s"


def _wait(names: set[str], timeout: float, started: float, since: float) -> list:
    """Wait until the named experiments (queued after `since`, a `time.time()`) have run;
    their rows from `dvc exp show`.

    Progress comes from DVC's run folders (`runs.queue_runs`: experiment k of n, the stage
    it runs, done/queued, the time since `started`), printed when it changes and at least
    every `PROGRESS_EVERY` s; `dvc exp show`, which can wait on the queue's lock for as long
    as a run takes, is asked once at the end.
    """
    from tabml.experiments.runs import PENDING, queue_runs

    deadline = time.monotonic() + timeout
    last, last_time = None, started
    while True:
        counts = queue_runs(since, len(names))
        now = time.monotonic()
        if counts != last or now - last_time >= PROGRESS_EVERY:
            typer.echo(counts.line(now - started))
            last, last_time = counts, now
        if counts.done >= len(names):
            break
        if now > deadline:
            raise _exit(f"timed out with {len(names) - counts.done} experiment(s) still "
                        "queued or running")  # fmt: skip
        time.sleep(1.0)  # a few file reads per poll: nothing to back off from
    while True:  # DVC records the last run's result a moment after its process ends
        rows = [e for e in _experiments()[1] if e.name in names]
        if not any(e.state in PENDING for e in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(2.0)


BEST_ROWS = 5  # experiments in the `best` table (more when more of them tie)


def _package_applied(name: str) -> None:
    """`dvc repro` after `dvc exp apply`: a sweep stops at evaluate, so the applied model is
    packaged here (its other stages come from the cache), and `make serve` / `make batch`
    serve it. A stage that refuses (the package stage's gates) stops with its message."""
    from tabml.tools import CommandError, on_stage, stream

    started = time.monotonic()
    running = on_stage(lambda stage: typer.echo(f"best: stage {stage} running; "
                                                 f"{_elapsed(started)}"))  # fmt: skip
    typer.echo(f"best: packaging {name} (dvc repro: the stages its run did not reach)")
    try:
        stream("dvc", ["repro"], running)
    except CommandError as err:
        raise _exit(
            f"error: {name} is applied but could not be packaged, so make serve keeps the "
            f"previous model: {err}"
        ) from err
    typer.echo(
        f"best: {name} is packaged: make serve and make batch use it. Keep it: git add "
        "params.yaml dvc.lock && git commit; or go back: make restore-baseline"
    )


def _no_experiment(metric: str, all_commits: bool) -> str:
    """Why `best` has nothing to rank, and where else experiments may be."""
    if all_commits:
        return f"no finished experiment of any commit reports {metric!r}: run `make sweep` first"
    others = [e for e in _experiments(all_commits=True)[1] if e.state == "success"]
    hint = (
        f"{len(others)} finished experiment(s) of other commits exist: `make best ALL_COMMITS=1`"
        if others
        else "`make best ALL_COMMITS=1` looks at every commit"
    )
    return (
        f"no finished experiment of the current commit reports {metric!r} (`dvc exp show` "
        f"lists only experiments based on HEAD): run `make sweep`, or {hint}"
    )


@command("best")
def best(
    metric: Annotated[str, typer.Option(help="metric to rank by")] = "f1_macro",
    apply: Annotated[bool, typer.Option(help="`dvc exp apply` the best one")] = False,
    branch: Annotated[str, typer.Option(help="`dvc exp branch` it to this branch")] = "",
    higher_is_better: Annotated[
        bool | None,
        typer.Option(
            "--higher-is-better/--lower-is-better", help="override the metric's known sense"
        ),
    ] = None,
    all_commits: Annotated[bool, typer.Option(help="experiments of all commits")] = False,
) -> None:
    """Print the best experiment by a metric; optionally apply or branch it."""
    from tabml.experiments import runs as ex
    from tabml.model.gates import direction
    from tabml.tools import dvc

    baselines, rows = _experiments(all_commits)
    try:
        ranked = ex.rank(rows, metric, higher_is_better)
    except ValueError as err:
        raise _exit(f"error: {err}") from err
    if not ranked:
        raise _exit(_no_experiment(metric, all_commits))
    winner = ranked[0]
    if higher_is_better is None:
        sense = direction(metric)
    else:
        sense = "higher" if higher_is_better else "lower"
    typer.echo(f"best: {winner.name} {metric}={winner.metrics[metric]} ({sense} is better)")
    tied = ex.tied_with_best(ranked, metric)
    tie = ex.tie_message(tied, metric)
    if tie:
        typer.echo(tie)
    top = ranked[: max(BEST_ROWS, len(tied))]  # every tied experiment is shown
    shown = baselines + top
    typer.echo(ex.experiments_table(shown, ex.varying_params(shown), _numeric_metrics(shown)))
    hidden = ex.hidden_message(len(top), len(ranked), len(rows) - len(ranked), metric)
    if hidden:
        typer.echo(hidden)
    if apply:
        dvc(["exp", "apply", winner.name])
        typer.echo(f"applied {winner.name} to the workspace")
        _package_applied(winner.name)
    if branch:
        dvc(["exp", "branch", winner.name, branch])
        typer.echo(f"created git branch {branch!r} from {winner.name}")


@dataclass(frozen=True)
class Comparison:
    """The workspace against a base: metrics, failed gates, and what was compared."""

    diff: Any  # tabml.experiments.base_revision.MetricsDiff
    failures: list
    checked: int  # gates checked
    dataset_change: str | None  # a sentence when the base used another data.profile
    min_lift: dict[str, float]


def _compare(base: str | None, reproduce: bool, target: str) -> Comparison:
    import json

    from tabml import paths
    from tabml.experiments.base_revision import (
        dataset_change,
        default_base,
        metrics_diff,
        profile_at,
    )
    from tabml.model.gates import (
        check_absolute,
        check_lift,
        check_regression,
        check_slices,
        load_gates,
        slice_checks,
    )
    from tabml.params import load_params

    dataset = load_gates()
    gates = dataset.gates
    diff = metrics_diff(base or default_base(), reproduce=reproduce, target=target)
    changed = dataset_change(profile_at(diff.commit), load_params().data.profile)
    failures = check_absolute(diff.new, gates, diff.old, dataset.where)
    failures += check_lift(diff.new, gates)
    checked = dataset.count
    if changed:  # metrics of different datasets are not comparable: no regression counted
        checked -= len(gates.max_regression)
    else:
        failures += check_regression(diff.new, diff.old, gates)
    if paths.SLICES.exists():  # the workspace's slices, as the evaluate stage wrote them
        slices = json.loads(paths.SLICES.read_text())
        failures += check_slices(slices, gates.slices)
        checked += slice_checks(slices, gates.slices)
    return Comparison(diff, failures, checked, changed, dict(gates.min_lift))


@command("report")
def report(
    base: BaseOption = "", reproduce: ReproduceOption = True, target: TargetOption = "evaluate"
) -> None:
    """Write reports/review/report.md (+ plots HTML) comparing the workspace with a base."""
    from tabml.experiments.review import read_plots, render, write_report
    from tabml.tools import dvc_json

    c = _compare(base or None, reproduce, target)
    params_diff = dvc_json(["params", "diff", c.diff.base])
    plots = (read_plots(c.diff.commit), read_plots(None))
    html = _plots_html(c.diff.base)
    markdown = render(
        c.diff,
        params_diff,
        c.failures,
        c.checked,
        plots,
        html,
        c.dataset_change,
        c.min_lift,
        _tuned_rows(),
    )
    path = write_report(markdown)
    typer.echo(markdown)
    typer.echo(f"review written to {path}", err=True)


def _tuned_rows() -> list:
    """The tuned parameters beside the hand-set ones, when the tune stage ran trials."""
    from tabml import paths
    from tabml.experiments.review import tuned_rows
    from tabml.model.tuned_params import read_tuned
    from tabml.params import load_params

    if not paths.TUNED_PARAMS.exists():
        return []
    return tuned_rows(read_tuned(paths.TUNED_PARAMS), load_params().train.model_dump())


def _plots_html(base: str) -> str | None:
    """`dvc plots diff` as self-contained HTML (the repo's offline template); None on failure."""
    from tabml.experiments.review import PLOTS_HTML_DIR
    from tabml.tools import run

    PLOTS_HTML_DIR.mkdir(parents=True, exist_ok=True)  # dvc does not create missing parents
    result = run("dvc", ["plots", "diff", base, "-o", str(PLOTS_HTML_DIR)], check=False)
    if result.returncode != 0:
        typer.echo(f"warning: dvc plots diff failed: {result.stderr.strip()}", err=True)
        return None
    return str(PLOTS_HTML_DIR / "index.html")


@command("gate")
def gate(
    base: BaseOption = "", reproduce: ReproduceOption = True, target: TargetOption = "evaluate"
) -> None:
    """Fail (exit 1) if a metric breaks a gate (profile + params.yaml), naming value and limit."""
    c = _compare(base or None, reproduce, target)
    typer.echo(
        f"gates: workspace vs {c.diff.base} ({c.diff.commit[:7]}); base metrics: {c.diff.source}"
    )
    if c.dataset_change:
        typer.echo(f"note: {c.dataset_change}")
    for failure in c.failures:
        typer.echo(f"FAIL {failure.message()}", err=True)
    if c.failures:
        raise typer.Exit(1)
    typer.echo(f"ok: all {c.checked} gates pass")
