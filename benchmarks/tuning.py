"""`make bench-tune`: the tune stage's search vs the grid of sweep.yaml, in one run.

For penguins and flights (a seeded sample of `--flights-rows` rows, as its own profile in the
repo copy: the whole file makes every fit ~15x slower on this shared 2-core machine):
- the data: a copy of the repo runs `dvc repro split` (the pipeline's own train/test split);
- the grid: every configuration of sweep.yaml fitted on the whole training split with
  `fit_model` and scored on the test split like the evaluate stage; its best test score is
  the bar (for each metric on its own). The same grid is also scored by 5-fold CV (the tune
  stage's metric), i.e. what a CV grid search costs (configs x 5 fits: the search's budget)
  and which config it would pick without looking at the test split;
- the search: the tune stage's own functions with params.yaml's `tune` section (in-memory
  study), then the best trial re-fitted on the whole training split and scored on the test
  split. Fits counted: every fold fit of every trial (pruned ones as far as they got);
- wall seconds of the real commands in the copy: `make sweep` (8 queued experiments up to
  evaluate), `make tune` (one experiment, tune to package), and the tune stage alone in
  process and with TABML_DASK_WORKERS (whose outputs must be the same bytes);
- context: the same search with other seeds, metrics and fold counts (same budget).
Results and the command go to docs/benchmarks.md (section `tuning`).
"""

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import yaml

from benchmarks.scaling import sampled_profile
from benchmarks.support import ROOT, bench_env, machine_description, measure, write_section
from tabml.data.profile import load_profile
from tabml.model import tune, tune_cv, tune_summary
from tabml.model.evaluate import compute_metrics
from tabml.model.features import model_frame
from tabml.model.train import fit_model
from tabml.model.tuned_params import apply_tuned, tuned_document
from tabml.params import Params, TrainParams, TuneParams, load_params
from testkit import FLIGHTS_GATES, git, make_cmd, repo_copy

METRICS = ("f1_macro", "roc_auc_ovr", "log_loss")
# The baseline's CV: a grid search of sweep.yaml's configs with 5-fold CV. Its fits (configs x
# 5) are the search's budget, whatever folds the search itself uses (tune.max_fits).
GRID_FOLDS = 5
STAGE_OUTPUTS = ("models/tuned_params.yaml", "reports/tune/summary.json")


def grid_configs(train: TrainParams, grid_file: Path) -> list[TrainParams]:
    """Every configuration of the sweep grid, as the train params `make sweep` would run."""
    configs = []
    for family, values in yaml.safe_load(grid_file.read_text()).items():
        names = list(values)
        for combo in itertools.product(*(values[n] for n in names)):
            section = getattr(train, family).model_copy(update=dict(zip(names, combo)))
            configs.append(train.model_copy(update={"model": family, family: section}))
    return configs


def test_metrics(train_df, test_df, profile, params: TrainParams) -> dict:
    """Refit on the whole training split; the evaluate stage's metrics on the test split."""
    pipeline = fit_model(train_df, profile, params)
    y_true = test_df[profile.target].astype(str).to_numpy(dtype=object)
    proba = pipeline.predict_proba(model_frame(test_df, profile.features))
    return compute_metrics(y_true, proba, pipeline.classes_)


def cv_score(train_df, profile, params: TrainParams, settings: TuneParams) -> float:
    return float(np.mean([
        tune_cv.fold_score(train_df, fit, val, profile, params, settings.metric)
        for fit, val in tune_cv.cv_folds(train_df, profile, settings)
    ]))  # fmt: skip


def prepare(profile_name: str, repo: Path, flights_rows: int) -> str:
    """Set the copy's params.yaml to the profile (a flights sample with its gates) and commit
    it, as `make sweep`'s queue runs the committed state; returns the profile's name."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    if profile_name == "flights":
        profile_name = sampled_profile(repo, flights_rows)
        params["sources"] = [f"data/bench/{profile_name}.csv"]
        params["gates"]["min"].update(FLIGHTS_GATES)
    params["data"]["profile"] = profile_name
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git("add", "-A", cwd=repo)
    git("-c", "user.name=tabml", "-c", "user.email=tabml@localhost", "commit", "-qm", "profile",
        cwd=repo)  # fmt: skip
    measure(["dvc", "repro", "split"], repo).check("dvc repro split")
    return profile_name


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds (this process: every fit runs in it, one at a time) since start."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def _seconds(elapsed: tuple[float, float]) -> str:
    return f"{elapsed[0]:.1f} ({elapsed[1]:.1f} CPU)"


def search(train_df, test_df, profile, train: TrainParams, settings: TuneParams) -> dict:
    """The tune stage's search (in memory), then the best trial refitted and test-scored."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = _clock()
    study = tune.open_study(optuna.storages.InMemoryStorage(), "bench", settings,
                            tune_cv.task_families(settings, profile))  # fmt: skip
    tune.run_study(study, tune.make_objective(train_df, profile, train, settings), settings)
    summary = tune_summary.summary(study, settings)
    best = tune_summary.chosen(study, train, settings)
    document = tuned_document(best["model"], best["hyperparameters"], {}, "bench", best["trial"])
    tuned_params = apply_tuned(train, document, Path("bench"))
    return {
        "seed": settings.seed,
        "metric": settings.metric,
        "folds": settings.folds,
        "summary": summary,
        "tuned": _describe(tuned_params),
        "test": test_metrics(train_df, test_df, profile, tuned_params),
        "seconds": _since(started),
    }


def commands(repo: Path, dask_workers: int) -> dict:
    """Wall seconds of `make sweep`, `make tune` and the tune stage alone (in process, Dask)."""
    env = bench_env(repo)
    timed = {"sweep": measure(make_cmd("sweep"), repo, env).check("make sweep").seconds}
    timed["tune"] = measure(make_cmd("tune"), repo, env).check("make tune").seconds
    made = {name: (repo / name).read_bytes() for name in STAGE_OUTPUTS}
    stage = ["python", "-m", "tabml.stages.tune"]
    engines = {"in process": {}}
    if dask_workers:
        engines[f"TABML_DASK_WORKERS={dask_workers}"] = {"TABML_DASK_WORKERS": str(dask_workers)}
    timed["stage"], timed["same"] = {}, True
    for name, extra in engines.items():
        shutil.rmtree(repo / "models" / "tune_study")  # a fresh study: every trial runs
        run = measure(stage, repo, {**env, "PYTHONPATH": "src", **extra}).check(f"tune ({name})")
        timed["stage"][name] = run.seconds
        timed["same"] &= all((repo / n).read_bytes() == made[n] for n in STAGE_OUTPUTS)
    return timed


def bench_profile(profile_name: str, params: Params, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        repo = repo_copy(Path(tmp) / "repo")
        name = prepare(profile_name, repo, args.flights_rows)
        profile = load_profile(name, repo / "configs")
        train_df = pd.read_parquet(repo / "data/processed/train.parquet")
        test_df = pd.read_parquet(repo / "data/processed/test.parquet")
        settings, train = params.tune, params.train
        started = _clock()
        configs = grid_configs(train, ROOT / "sweep.yaml")
        grid = [test_metrics(train_df, test_df, profile, c) for c in configs]
        grid_seconds = _since(started)
        started = _clock()
        grid_settings = settings.model_copy(update={"folds": GRID_FOLDS})
        grid_cv = [cv_score(train_df, profile, c, grid_settings) for c in configs]
        grid_cv_seconds = _since(started)
        print(f"{name}: grid {_seconds(grid_seconds)}, CV {_seconds(grid_cv_seconds)}",
              file=sys.stderr, flush=True)  # fmt: skip
        searches = [search(train_df, test_df, profile, train, settings)]
        print(f"{name}: search {_seconds(searches[0]['seconds'])}", file=sys.stderr, flush=True)
        others = [{"seed": s} for s in args.extra_seeds]
        others += [{"metric": m} for m in args.extra_metrics]
        others += [{"folds": f} for f in args.extra_folds]
        for change in others:
            other = settings.model_copy(update=change)
            searches.append(search(train_df, test_df, profile, train, other))
        timed = commands(repo, args.dask_workers)
        print(f"{name}: commands {timed}", file=sys.stderr, flush=True)
    by_cv = max(range(len(grid)), key=lambda i: grid_cv[i])
    return {
        "profile": name,
        "rows": (len(train_df), len(test_df)),
        "grid": [(_describe(c), m, cv) for c, m, cv in zip(configs, grid, grid_cv, strict=True)],
        "grid_seconds": grid_seconds,
        "grid_cv_seconds": grid_cv_seconds,
        "grid_cv_fits": len(grid) * GRID_FOLDS,
        "by_cv": by_cv,
        "search": searches[0],
        "others": searches[1:],
        "commands": timed,
    }


def _describe(params: TrainParams) -> str:
    values = getattr(params, params.model).model_dump()
    shown = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
    )
    return f"{params.model} ({shown})"


def _row(label: str, fits, seconds: str, metrics: dict) -> str:
    shown = " | ".join(f"{metrics[m]:.4f}" for m in METRICS)
    return f"| {label} | {fits} | {seconds} | {shown} |"


def render_profile(r: dict, settings: TuneParams) -> list[str]:
    s, found = r["search"]["summary"], r["search"]["test"]
    best = {m: max(g[1][m] for g in r["grid"]) for m in METRICS[:2]}
    lines = [f"### {r['profile']} ({r['rows'][0]} training rows, {r['rows'][1]} test rows)", ""]
    lines += [
        f"| sweep.yaml config | test macro-F1 | test ROC AUC | test log loss | "
        f"{GRID_FOLDS}-fold CV score |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {m['f1_macro']:.4f} | {m['roc_auc_ovr']:.4f} | {m['log_loss']:.4f} | "
        f"{cv:.4f} |"
        for name, m, cv in r["grid"]
    ]
    by_cv = r["grid"][r["by_cv"]]
    lines += [
        "",
        "| | CV fits (+ 1 refit) | wall (CPU) seconds | test macro-F1 | test ROC AUC | "
        "test log loss |",
        "|---|---|---|---|---|---|",
        f"| grid: {len(r['grid'])} fits, best of each metric by test score (the bar) | none | "
        f"{_seconds(r['grid_seconds'])} | {best['f1_macro']:.4f} | {best['roc_auc_ovr']:.4f} "
        f"| {min(g[1]['log_loss'] for g in r['grid']):.4f} |",
        _row(
            f"grid by CV, picks {by_cv[0]}",
            r["grid_cv_fits"],
            _seconds(r["grid_cv_seconds"]),
            by_cv[1],
        ),
        _row(
            f"tune: {s['trials']} trials ({s['complete']} complete, {s['pruned']} pruned), "
            f"picks {r['search']['tuned']} (CV {s['best']['cv_score']:.4f})",
            s["fits"],
            _seconds(r["search"]["seconds"]),
            found,
        ),
        "",
    ]
    for metric, label in (("f1_macro", "macro-F1"), ("roc_auc_ovr", "ROC AUC")):
        ok = found[metric] >= best[metric] and s["fits"] <= r["grid_cv_fits"]
        lines.append(
            f"- [{'x' if ok else ' '}] tuned test {label} {found[metric]:.4f} >= the grid's "
            f"best {best[metric]:.4f}, with {s['fits']} CV fits <= {r['grid_cv_fits']} "
            f"({len(r['grid'])} configs x {GRID_FOLDS} folds)"
        )
    c = r["commands"]
    stage = ", ".join(f"{k} {v:.1f} s" for k, v in c["stage"].items())
    lines += [
        f"- wall seconds of the commands in the copy: `make sweep` {c['sweep']:.1f} s (8 "
        f"experiments up to evaluate), `make tune` {c['tune']:.1f} s (one experiment, tune to "
        f"package); the tune stage alone: {stage}; its outputs on every engine are "
        f"{'the same bytes as' if c['same'] else 'DIFFERENT from'} `make tune`'s",
        "",
    ]
    if r["others"]:
        lines += [
            "Context, not the measured default: the same search with another `tune.seed` (it "
            "also reshuffles the CV folds), `tune.metric` or `tune.folds` (same 40 fits).",
            "",
            "| tune.seed | tune.metric | tune.folds | picks | CV score | CV fits | "
            "wall (CPU) seconds | test macro-F1 | test ROC AUC | test log loss |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {o['seed']} | {o['metric']} | {o['folds']} | {o['tuned']} | "
            f"{o['summary']['best']['cv_score']:.4f} | {o['summary']['fits']} | "
            f"{_seconds(o['seconds'])} | "
            + " | ".join(f"{o['test'][m]:.4f}" for m in METRICS)
            + " |"
            for o in r["others"]
        ]
        lines.append("")
    return lines


def report(results: list[dict], settings: TuneParams, load, command: str) -> str:
    lines = ["## Tuning", "", *machine_description(load), ""]
    lines += [
        f"Command: `{command}`; params.yaml's `tune` section: at most {settings.n_trials} "
        f"trials and {settings.max_fits} CV fits, {settings.folds}-fold CV of "
        f"`{settings.metric}`, seed {settings.seed}, {settings.startup_trials} random start-up "
        f"trials, pruning {'on' if settings.prune else 'off'}. Test metrics as the evaluate "
        "stage computes them (refit on the whole training split). One run; wall seconds move "
        "with the machine's load.",
        "",
    ]
    for r in results:
        lines += render_profile(r, settings)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights-rows", type=int, default=20_000,
                        help="flights rows sampled (0: penguins only)")  # fmt: skip
    parser.add_argument("--dask-workers", type=int, default=2, help="0: no Dask run")
    parser.add_argument("--extra-seeds", type=int, nargs="*", default=[0, 1, 2, 3])
    parser.add_argument("--extra-metrics", nargs="*", default=["f1_macro", "roc_auc_ovr"])
    parser.add_argument("--extra-folds", type=int, nargs="*", default=[5])
    args = parser.parse_args()
    command = "make bench-tune" if sys.argv[1:] == [] else "python -m benchmarks.tuning " + (
        " ".join(sys.argv[1:]))  # fmt: skip
    os.chdir(ROOT)  # profiles and params are read from the repository
    load = os.getloadavg()
    params = load_params()
    profiles = ["penguins", *(["flights"] if args.flights_rows else [])]
    results = [bench_profile(name, params, args) for name in profiles]
    markdown = report(results, params.tune, load, command)
    write_section("tuning", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
