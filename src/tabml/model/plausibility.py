"""Too good to be true: a test score that is implausibly perfect, and the columns to suspect.

Real tables rarely give accuracy or r2 of 0.999 or more on held-out rows: such a score
usually means a feature carries the answer (a copy of the label, a column derived from the
target, a sum of two columns that is the target). The evaluate stage warns and the package
stage refuses such a model unless the profile says `expect_perfect: true`; both name the
suspects: the profile's `leak_suspects` that are still features, then the features the
score depends on most (permutation importance, reports/plots/importance.json).

ROC AUC alone is not gated: ranking every test row right happens legitimately (penguins'
ROC AUC is 1.0 for some models on the model benchmark).
"""

from tabml.data.profile import DatasetProfile
from tabml.errors import TabmlError

PERFECT = {"accuracy": 0.999, "r2": 0.999}


class ImplausibleScoreError(TabmlError, RuntimeError):
    """The test score is implausibly perfect and the profile does not expect it."""


def implausible(metrics: dict, profile: DatasetProfile, importance: list[dict]) -> str | None:
    """Why the score is implausibly perfect and which columns to suspect, or None."""
    hits = [
        f"{m} = {metrics[m]:.6g}"
        for m, limit in PERFECT.items()
        if isinstance(metrics.get(m), int | float) and metrics[m] >= limit
    ]
    if not hits:
        return None
    named = [c for c in profile.leak_suspects if c in profile.features.all]
    ranked = sorted(importance, key=lambda row: -row.get("importance", 0.0))
    named += [r["feature"] for r in ranked if r["feature"] not in named][: max(0, 3 - len(named))]
    return (
        f"{' and '.join(hits)} on the test set is implausibly perfect (>= 0.999): suspect "
        f"columns {', '.join(named) or '(none ranked)'} (leak_suspects of the profile, then the "
        f"most important features); remove a leaking column from configs/{profile.name}.yaml's "
        "features, or set `expect_perfect: true` there if the data really is that easy"
    )


def refuse_implausible(metrics: dict, profile: DatasetProfile, importance: list[dict]) -> None:
    """Raise ImplausibleScoreError unless the score is plausible or expected (package stage)."""
    why = implausible(metrics, profile, importance)
    if why is not None and not profile.expect_perfect:
        raise ImplausibleScoreError(f"not packaged: {why}")
