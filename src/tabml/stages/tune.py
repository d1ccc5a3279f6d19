"""Stage tune: search train.model + hyperparameters by CV on the training split (resumable).

With train.use_tuned false (the default) no trial runs: the stage writes a "not tuned"
models/tuned_params.yaml and empty reports, and leaves a stored study as it is.
"""

from tabml import atomic, paths
from tabml.model.tuned_params import dump, not_tuned_document, tuned_document
from tabml.params import load_params
from tabml.stages import run


def _not_tuned() -> None:
    if (
        not paths.TUNE_STUDY.exists()
    ):  # a DVC output must exist; an empty journal is a study-less one
        atomic.write_text(paths.TUNE_STUDY, "")
    atomic.write_text(paths.TUNED_PARAMS, dump(not_tuned_document()))
    atomic.write_json(paths.TUNE_SUMMARY, {"tuned": False})
    for plot in (paths.TUNE_HISTORY_PLOT, paths.TUNE_IMPORTANCE_PLOT, paths.TUNE_FAMILIES_PLOT):
        atomic.write_json(plot, [])
    print("tune: train.use_tuned is false, no trial run (see docs/tuning.md)")


def main() -> None:
    params = load_params()
    if not params.train.use_tuned:
        _not_tuned()
        return
    # Imported only when tuning: the no-op above stays a fraction of a second.
    import optuna
    import pandas as pd

    from tabml.data.profile import load_profile
    from tabml.model import tune, tune_summary

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is ours, below
    train, settings = pd.read_parquet(paths.TRAIN_DATA), params.tune
    profile = load_profile(params.data.profile)
    paths.TUNE_STUDY.parent.mkdir(parents=True, exist_ok=True)
    name = tune.study_name(train, params.train, settings)
    study = tune.open_study(tune.journal_storage(paths.TUNE_STUDY), name, settings)
    before = len(tune.finished_trials(study))
    print(f"tune: study {name} in {paths.TUNE_STUDY} holds {before} finished trials")

    def progress(trial) -> None:
        complete = trial.state == optuna.trial.TrialState.COMPLETE
        score = f"{settings.metric}={trial.value:.4f}" if complete else trial.state.name.lower()
        print(f"tune: trial {trial.number} {trial.params['model']} {score}", flush=True)

    objective = tune.make_objective(train, profile, params.train, settings)
    ran = tune.run_study(study, objective, settings, on_trial=progress)
    best = tune_summary.best_trial(study)
    summary = tune_summary.summary(study, params.train, settings)
    cv = {"metric": settings.metric, "folds": settings.folds, "score": summary["best"]["cv_score"]}
    hyper = summary["best"]["hyperparameters"]
    document = tuned_document(best.params["model"], hyper, cv, name, best.number)
    atomic.write_text(paths.TUNED_PARAMS, dump(document))
    atomic.write_json(paths.TUNE_SUMMARY, summary)
    atomic.write_json(paths.TUNE_HISTORY_PLOT, tune_summary.history_points(study))
    atomic.write_json(paths.TUNE_IMPORTANCE_PLOT, tune_summary.importance_points(study, settings))
    atomic.write_json(paths.TUNE_FAMILIES_PLOT, tune_summary.family_points(study))
    print(
        f"tune: ran {ran} trials; best trial {best.number}: {document['model']} {hyper} "
        f"cv {settings.metric}={cv['score']} -> {paths.TUNED_PARAMS}"
    )


if __name__ == "__main__":
    run(main)
