"""Stage tune: search train.model + hyperparameters by CV on the training split (resumable).

The folds of each trial run where tabml.engine says (in process or on Dask workers).

With train.use_tuned false (the default) no trial runs: the stage writes a "not tuned"
models/tuned_params.yaml and empty reports in a fraction of a second, and leaves a stored
study as it is.
"""

from tabml import atomic, paths
from tabml.model.tuned_params import dump, not_tuned_document, tuned_document
from tabml.params import load_params
from tabml.stages import run

# The study folder always holds this note, so the DVC output exists (and is not empty) before
# the first trial; the journal beside it appears with the first study.
STUDY_NOTE = (
    "Optuna journal (journal.log) of the tune stage: every trial of every study, appended.\n"
    "A DVC output with persist: true, so a larger tune.n_trials resumes it. docs/tuning.md\n"
)
PLOTS = (paths.TUNE_HISTORY_PLOT, paths.TUNE_IMPORTANCE_PLOT, paths.TUNE_FAMILIES_PLOT)


def _write(tuned: dict, summary: dict, plots: tuple[list, list, list]) -> None:
    atomic.write_text(paths.TUNE_STUDY_DIR / "README.txt", STUDY_NOTE)
    atomic.write_text(paths.TUNED_PARAMS, dump(tuned))
    atomic.write_json(paths.TUNE_SUMMARY, summary)
    for path, points in zip(PLOTS, plots, strict=True):
        atomic.write_json(path, points)


def main() -> None:
    params = load_params()
    if not params.train.use_tuned:
        _write(not_tuned_document(), {"trials": 0}, ([], [], []))
        print("tune: train.use_tuned is false, no trial run (see docs/tuning.md)")
        return
    # Imported only when tuning, so that the no-op above stays cheap.
    import optuna
    import pandas as pd

    from tabml.data.profile import load_profile
    from tabml.engine import open_engine
    from tabml.model import tune, tune_cv, tune_summary

    profile = load_profile(params.data.profile)
    families = tune_cv.task_families(params.tune, profile)  # a metric that fits the task too
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is ours, below
    settings, train = params.tune, pd.read_parquet(paths.TRAIN_DATA)
    paths.TUNE_STUDY_DIR.mkdir(parents=True, exist_ok=True)
    name = tune.study_name(train, params.train, settings)
    study = tune.open_study(
        tune.journal_storage(paths.TUNE_STUDY), name, settings, families, params.train
    )
    print(f"tune: study {name} in {paths.TUNE_STUDY}: {len(tune.finished_trials(study))} trials")

    def progress(trial: optuna.trial.FrozenTrial) -> None:
        complete = trial.state == optuna.trial.TrialState.COMPLETE
        score = f"{settings.metric}={trial.value:.4f}" if complete else trial.state.name.lower()
        print(f"tune: trial {trial.number} {trial.params['model']} {score}", flush=True)

    objective = tune.make_objective(train, profile, params.train, settings)
    # Where the folds run is the environment's choice (tabml.engine), never a param: the
    # scores, hence every output, are the same on any engine.
    with open_engine() as engine, tune_cv.fold_backend(engine, train):
        ran = tune.run_study(study, objective, settings, on_trial=progress)
    summary = tune_summary.summary(study, settings)
    best = tune_summary.chosen(study, params.train, settings)
    cv = {"metric": settings.metric, "folds": settings.folds, "score": best["cv_score"]}
    tuned = tuned_document(best["model"], best["hyperparameters"], cv, name, best["trial"])
    plots = (
        tune_summary.history_points(study, settings),
        tune_summary.importance_points(study, settings),
        tune_summary.family_points(study, settings),
    )
    _write(tuned, summary, plots)
    print(f"tune: ran {ran} trials; best is trial {best['trial']}, {best['model']} "
          f"{best['hyperparameters']}, CV {settings.metric}={best['cv_score']}")  # fmt: skip


if __name__ == "__main__":
    run(main)
