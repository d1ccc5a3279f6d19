"""`make bench-tune`: the tune stage's search vs the grid of sweep.yaml, in one run.

For each dataset profile (penguins; `--profile flights` adds flights, which has not been run:
its grid and search are slow on a shared 2-core machine):
- the data: a copy of the repo runs `dvc repro split` (the pipeline's own train/test split);
- the grid: every configuration of sweep.yaml fitted on the whole training split with
  `fit_model` (as `make sweep` would, in process to save the DVC overhead) and scored on the
  test split like the evaluate stage; its best test macro-F1 is the bar. The same grid is
  also scored by the tune stage's CV (tune.folds folds), i.e. what a CV grid search costs
  (configs x folds fits) and which config it would pick without looking at the test split;
- the search: the tune stage's own functions with params.yaml's `tune` section (in-memory
  study), then the best trial re-fitted on the whole training split and scored on the test
  split. Fits counted: every fold fit of every trial (pruned ones stop early); the refit aside;
- context: the same search with other tune.seed values (--extra-seeds) and budgets
  (--extra-trials), to show how much one pick depends on them.
Results and the command go to docs/benchmarks.md (section `tuning`).
"""

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import yaml
from sklearn.metrics import get_scorer

from benchmarks.support import ROOT, bench_env, machine_description, repo_copy, write_section
from tabml.data.profile import load_profile
from tabml.model import tune, tune_summary
from tabml.model.evaluate import compute_metrics
from tabml.model.features import model_frame
from tabml.model.train import fit_model
from tabml.model.tuned_params import apply_tuned, tuned_document
from tabml.params import Params, TrainParams, load_params


def grid_configs(train: TrainParams, grid_file: Path) -> list[TrainParams]:
    """Every configuration of the sweep grid, as the train params `make sweep` would run."""
    configs = []
    for family, values in yaml.safe_load(grid_file.read_text()).items():
        names = list(values)
        for combo in itertools.product(*(values[n] for n in names)):
            section = getattr(train, family).model_copy(update=dict(zip(names, combo)))
            configs.append(train.model_copy(update={"model": family, family: section}))
    return configs


def test_f1(train_df, test_df, profile, params: TrainParams) -> float:
    pipeline = fit_model(train_df, profile, params)
    y_true = test_df[profile.target].astype(str).to_numpy(dtype=object)
    proba = pipeline.predict_proba(model_frame(test_df, profile.features))
    return compute_metrics(y_true, proba, pipeline.classes_)["f1_macro"]


def cv_score(train_df, profile, params: TrainParams, settings) -> float:
    labels = train_df[profile.target].astype(str).to_numpy(dtype=object)
    features, scorer = model_frame(train_df, profile.features), get_scorer(settings.metric)
    scores = [
        scorer(fit_model(train_df.iloc[fit], profile, params), features.iloc[val], labels[val])
        for fit, val in tune.cv_folds(labels, settings)
    ]
    return float(np.mean(scores))


def split_data(profile_name: str, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's own train/test split of `profile_name`, made in a copy of the repo."""
    repo = repo_copy(folder)
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("profile: penguins", f"profile: {profile_name}"))
    subprocess.run(["dvc", "repro", "split"], cwd=repo, env=bench_env(), check=True,
                   capture_output=True)  # fmt: skip
    return (pd.read_parquet(repo / "data/processed/train.parquet"),
            pd.read_parquet(repo / "data/processed/test.parquet"))  # fmt: skip


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds (this process: every fit runs in it, one at a time) since start."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def _seconds(elapsed: tuple[float, float]) -> str:
    return f"{elapsed[0]:.1f} ({elapsed[1]:.1f} CPU)"


def bench_profile(profile_name: str, params: Params, extra_seeds: list[int],
                  extra_trials: list[int]) -> dict:  # fmt: skip
    profile = load_profile(profile_name)
    with tempfile.TemporaryDirectory() as tmp:
        train_df, test_df = split_data(profile_name, Path(tmp))
    settings, train = params.tune, params.train
    started = _clock()
    grid = [
        (c, test_f1(train_df, test_df, profile, c))
        for c in grid_configs(train, ROOT / "sweep.yaml")
    ]
    grid_seconds = _since(started)
    started = _clock()
    grid_cv = [cv_score(train_df, profile, c, settings) for c, _ in grid]
    grid_cv_seconds = _since(started)
    print(f"{profile_name}: grid {_seconds(grid_seconds)} s, grid CV {_seconds(grid_cv_seconds)} s",
          file=sys.stderr)  # fmt: skip

    searches = [search(train_df, test_df, profile, train, settings)]
    others = [{"seed": seed} for seed in extra_seeds] + [{"n_trials": n} for n in extra_trials]
    for change in others:
        other = settings.model_copy(update=change)
        searches.append(search(train_df, test_df, profile, train, other))
    first = searches[0]
    by_cv = max(range(len(grid)), key=lambda i: grid_cv[i])
    return {
        "profile": profile_name,
        "rows": (len(train_df), len(test_df)),
        "grid": [(_describe(c), f1, cv) for (c, f1), cv in zip(grid, grid_cv)],
        "grid_best_f1": max(f1 for _, f1 in grid),
        "grid_by_cv": (_describe(grid[by_cv][0]), grid[by_cv][1]),
        "grid_seconds": grid_seconds,
        "grid_cv_seconds": grid_cv_seconds,
        "grid_cv_fits": len(grid) * settings.folds,
        **first,
        "others": searches[1:],
    }


def search(train_df, test_df, profile, train: TrainParams, settings) -> dict:
    """The tune stage's search (in memory), then the best trial refitted and test-scored."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = _clock()
    study = tune.open_study(optuna.storages.InMemoryStorage(), "bench", settings)
    objective = tune.make_objective(train_df, profile, train, settings)
    tune.run_study(study, objective, settings)
    summary = tune_summary.summary(study, settings)
    best = tune_summary.chosen(study, train, settings)
    document = tuned_document(best["model"], best["hyperparameters"], {}, "bench", best["trial"])
    tuned_params = apply_tuned(train, document, Path("bench"))
    tuned_f1 = test_f1(train_df, test_df, profile, tuned_params)
    return {
        "seed": settings.seed,
        "n_trials": settings.n_trials,
        "summary": summary,
        "tuned": _describe(tuned_params),
        "tuned_f1": tuned_f1,
        "tune_fits": summary["fits"],
        "tune_seconds": _since(started),
    }


def _describe(params: TrainParams) -> str:
    values = getattr(params, params.model).model_dump()
    shown = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
    )
    return f"{params.model} ({shown})"


def report(results: list[dict], settings, load) -> str:
    lines = ["## Tuning", "", *machine_description(load), ""]
    lines += [
        "Command: `make bench-tune` (`python -m benchmarks.tuning"
        + "".join(f" --profile {r['profile']}" for r in results if r["profile"] != "penguins")
        + "`); params.yaml's `tune` section: "
        f"{settings.n_trials} trials, {settings.folds}-fold CV of `{settings.metric}`, "
        f"seed {settings.seed}, {settings.startup_trials} random start-up trials, "
        f"pruning {'on' if settings.prune else 'off'}. Test macro-F1 as the evaluate stage "
        "computes it (refit on the whole training split). One run; wall seconds move with the "
        "machine's load.",
        "",
    ]
    for r in results:
        s = r["summary"]
        lines += [
            f"### {r['profile']} ({r['rows'][0]} training rows, {r['rows'][1]} test rows)",
            "",
        ]
        lines += ["| sweep.yaml config | test macro-F1 | CV score |", "|---|---|---|"]
        lines += [f"| {name} | {f1:.4f} | {cv:.4f} |" for name, f1, cv in r["grid"]]
        ok = r["tuned_f1"] >= r["grid_best_f1"] and r["tune_fits"] <= r["grid_cv_fits"]
        lines += [
            "",
            "| | CV fits (+ 1 refit) | wall (CPU) seconds | test macro-F1 |",
            "|---|---|---|---|",
            f"| grid: {len(r['grid'])} fits, best by test score (the bar) | none | "
            f"{_seconds(r['grid_seconds'])} | {r['grid_best_f1']:.4f} |",
            f"| grid by CV, picks {r['grid_by_cv'][0]} | "
            f"{r['grid_cv_fits']} | {_seconds(r['grid_cv_seconds'])} | "
            f"{r['grid_by_cv'][1]:.4f} |",
            f"| tune: {s['trials']} trials ({s['complete']} complete, {s['pruned']} pruned), "
            f"picks {r['tuned']} (CV {s['best']['cv_score']:.4f}) | {r['tune_fits']} | "
            f"{_seconds(r['tune_seconds'])} | {r['tuned_f1']:.4f} |",
            "",
            f"- [{'x' if ok else ' '}] tuned test macro-F1 {r['tuned_f1']:.4f} >= the grid's best "
            f"{r['grid_best_f1']:.4f}, with {r['tune_fits']} CV fits (every fold of every "
            f"trial; pruned trials stop early) <= {r['grid_cv_fits']} (the grid's "
            f"{len(r['grid'])} configs x {settings.folds} folds); both then refit once",
            "",
        ]
        if r["others"]:
            lines += [
                "Context, not the measured default: the same search with another `tune.seed` "
                "(it also reshuffles the CV folds, so those CV scores are not comparable with "
                "the grid's) or another `tune.n_trials`.",
                "",
                "| tune.seed | tune.n_trials | picks | CV score | CV fits | wall (CPU) seconds | "
                "test macro-F1 |",
                "|---|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {o['seed']} | {o['n_trials']} | {o['tuned']} | "
                f"{o['summary']['best']['cv_score']:.4f} | {o['tune_fits']} | "
                f"{_seconds(o['tune_seconds'])} | {o['tuned_f1']:.4f} |"
                for o in r["others"]
            ]
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", default=[], help="also bench this profile")
    parser.add_argument(
        "--extra-seeds", type=int, nargs="*", default=[0, 1, 2, 3], help="context searches"
    )
    parser.add_argument(
        "--extra-trials", type=int, nargs="*", default=[16, 24], help="context budgets"
    )
    args = parser.parse_args()
    os.chdir(ROOT)  # profiles and params are read from the repository
    load = os.getloadavg()
    params = load_params()
    results = [
        bench_profile(name, params, args.extra_seeds, args.extra_trials)
        for name in ["penguins", *args.profile]
    ]
    markdown = report(results, params.tune, load)
    write_section("tuning", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
