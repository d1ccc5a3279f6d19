"""What a finished study says: the best trial, a deterministic summary and the plot data.

Nothing here depends on time or machine (no durations, no timestamps): the same trials give
byte-identical files. Scores are rounded to 6 decimals, like reports/metrics.json.
"""

from typing import Any

import optuna

from tabml.model.reported import reported
from tabml.model.tune import counted_trials, trial_fits
from tabml.params import TrainParams, TuneParams

COMPLETE = optuna.trial.TrialState.COMPLETE


def _complete(study: optuna.Study, tune: TuneParams) -> list[optuna.trial.FrozenTrial]:
    return [t for t in counted_trials(study, tune) if t.state == COMPLETE]


def best_trial(study: optuna.Study, tune: TuneParams) -> optuna.trial.FrozenTrial:
    """The highest CV score; ties go to the earliest trial."""
    complete = _complete(study, tune)
    if not complete:
        raise ValueError("the study has no complete trial")
    return min(complete, key=lambda t: (-t.value, t.number))


def hyperparameters(trial: optuna.trial.FrozenTrial, train_params: TrainParams) -> dict:
    """The trial's family section: searched values over the train section's own values."""
    family = trial.params["model"]
    values = getattr(train_params, family).model_dump()
    prefix = f"{family}."
    values.update({k[len(prefix) :]: v for k, v in trial.params.items() if k.startswith(prefix)})
    return values


def chosen(study: optuna.Study, train_params: TrainParams, tune: TuneParams) -> dict[str, Any]:
    """The best trial as models/tuned_params.yaml states it: family, hyperparameters, score."""
    best = best_trial(study, tune)
    return {
        "trial": best.number,
        "model": best.params["model"],
        "cv_score": reported(best.value),
        "hyperparameters": hyperparameters(best, train_params),
    }


def summary(study: optuna.Study, tune: TuneParams) -> dict[str, Any]:
    """The study in numbers only (a DVC metrics file): trials by state, model fits, the best
    trial's number and score, and per family its trials and best score."""
    trials = counted_trials(study, tune)
    best = best_trial(study, tune)
    families: dict[str, dict[str, Any]] = {}
    for trial in trials:
        family = families.setdefault(trial.params["model"], {"trials": 0, "pruned": 0})
        family["trials"] += 1
        if trial.state == COMPLETE:
            family["best_cv_score"] = max(
                family.get("best_cv_score", -1e300), reported(trial.value)
            )
        else:
            family["pruned"] += 1
    return {
        "folds": tune.folds,
        "trials": len(trials),
        "complete": len(_complete(study, tune)),
        "pruned": len(trials) - len(_complete(study, tune)),
        "fits": sum(trial_fits(t) for t in trials),
        "best": {"trial": best.number, "cv_score": reported(best.value)},
        "families": dict(sorted(families.items())),
    }


def history_points(study: optuna.Study, tune: TuneParams) -> list[dict[str, Any]]:
    """Per finished trial: its state, family, CV score (if complete) and the best so far."""
    points, best = [], None
    for trial in counted_trials(study, tune):
        point = {"trial": trial.number, "state": trial.state.name.lower()}
        point["model"] = trial.params["model"]
        if trial.state == COMPLETE:
            point["cv_score"] = reported(trial.value)
            best = point["cv_score"] if best is None else max(best, point["cv_score"])
        if best is not None:
            point["best_cv_score"] = best
        points.append(point)
    return points


def family_points(study: optuna.Study, tune: TuneParams) -> list[dict[str, Any]]:
    """Best CV score of each family that has a complete trial."""
    best: dict[str, float] = {}
    for trial in _complete(study, tune):
        family = trial.params["model"]
        best[family] = max(best.get(family, -1e300), reported(trial.value))
    return [{"family": f, "best_cv_score": s} for f, s in sorted(best.items())]


def importance_points(study: optuna.Study, tune: TuneParams) -> list[dict[str, Any]]:
    """fANOVA importance (seeded) of each family's hyperparameters, over that family's trials.

    Families are scored apart: a hyperparameter exists only in its own family's trials, and
    Optuna's evaluators use just the parameters every trial has. A family needs two complete
    trials with different scores to say anything; others are left out.
    """
    points = []
    for family, space in tune.space.families().items():
        names = [f"{family}.{n}" for n in space.searched()]
        trials = [t for t in _complete(study, tune) if t.params["model"] == family]
        if not names or len(trials) < 2 or len({t.value for t in trials}) < 2:
            continue
        sub = optuna.create_study(direction="maximize")
        sub.add_trials(trials)
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=tune.seed)
        importances = optuna.importance.get_param_importances(
            sub, evaluator=evaluator, params=names, normalize=True
        )
        points += [{"param": k, "importance": reported(v)} for k, v in importances.items()]
    return sorted(points, key=lambda p: (-p["importance"], p["param"]))
