"""Champion vs challenger on the comparison set: the same scoring code, metrics with
intervals, and the verdict from the gates and params.yaml's `retrain:` section."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tabml.errors import TabmlError
from tabml.model.gates import check_absolute, direction
from tabml.monitoring.live_metrics import labelled_metrics
from tabml.params import GatesParams, RetrainParams
from tabml.scoring.model import PackagedModel

PROMOTE, KEEP = "promote", "keep"
COMPARED = ("accuracy", "f1_macro", "log_loss")
SHOWN = (*COMPARED, "accuracy_low", "accuracy_high", "f1_macro_low", "f1_macro_high")


class CompareError(TabmlError, ValueError):
    """Comparison rows the model cannot score (a label it does not know)."""


def score(model: PackagedModel, rows: pd.DataFrame, profile, seed: int) -> dict:
    """Accuracy (Wilson interval), macro F1 (bootstrap interval), log loss on `rows`.

    The rows reach the model through its own input path, as a served record would.
    """
    _, probabilities = model.predict(model.inputs(rows).checked())  # a classifier's outputs
    probabilities = np.asarray(probabilities, dtype=np.float64)
    index = {name: i for i, name in enumerate(model.task.classes)}
    unknown = sorted(set(rows[profile.target]) - set(index))
    if unknown:
        raise CompareError(f"labels {unknown} are not classes of {model.version}")
    truth = rows[profile.target].map(index).to_numpy(dtype=np.int64)
    predicted = probabilities.argmax(axis=1)
    metrics = labelled_metrics(truth, probabilities, predicted, seed)
    return {name: round(float(metrics[name]), 6) for name in SHOWN} | {"rows": len(rows)}


@dataclass(frozen=True)
class Verdict:
    decision: str  # PROMOTE or KEEP
    reasons: list[str]


def _worse_by(metric: str, champion: float, challenger: float) -> float:
    """How much worse the challenger is (positive) in the metric's own units."""
    return champion - challenger if direction(metric) == "higher" else challenger - champion


def decide(champion: dict, challenger: dict, params: RetrainParams, gates: GatesParams) -> Verdict:
    """PROMOTE only when every rule holds; the reasons list each rule's outcome."""
    failed, passed = [], []
    primary = params.primary_metric
    gain = -_worse_by(primary, champion[primary], challenger[primary])
    rule = f"{primary} {challenger[primary]:.4f} vs champion {champion[primary]:.4f}: "
    rule += f"{gain:+.4f} (needs >= +{params.min_improvement:g}, retrain.min_improvement)"
    (passed if gain >= params.min_improvement else failed).append(rule)
    for metric, allowed in sorted(params.max_loss.items()):
        if metric == primary:
            continue
        loss = _worse_by(metric, champion[metric], challenger[metric])
        rule = f"{metric} {challenger[metric]:.4f} vs champion {champion[metric]:.4f}: "
        change = f"worse by {loss:.4f}" if loss > 0 else f"better by {-loss:.4f}"
        rule += f"{change} (allowed loss {allowed:g}, retrain.max_loss.{metric})"
        (passed if loss <= allowed else failed).append(rule)
    absolute = GatesParams(
        min={k: v for k, v in gates.min.items() if k in COMPARED},
        max={k: v for k, v in gates.max.items() if k in COMPARED},
    )
    for failure in check_absolute(challenger, absolute):
        failed.append(f"gate: challenger {failure.metric} {failure.value:.4f} breaks "
                      f"gates.{failure.rule}.{failure.metric} {failure.threshold:g}")  # fmt: skip
    if not failed:
        passed.append("the challenger passes the absolute gates on the comparison rows")
    return Verdict(KEEP if failed else PROMOTE, failed + passed)
