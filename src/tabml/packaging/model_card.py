"""The model card (`reports/model_card.md`): what a packaged model is, how good, where it is weak.

Written by the package stage and shipped in the model's metadata (`model_card`). Equal inputs
give equal bytes: no timestamps, no absolute paths, numbers rounded, everything sorted.
"""

import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tabml.model.gates import slice_checks
from tabml.monitoring.live_metrics import confusion, f1_bootstrap_interval

BOOTSTRAP_RESAMPLES = 1000
# A feature is a known limitation when more test values than this lie outside training.
OUTSIDE_RANGE_SHARE = 0.05
KEY_PACKAGES = ("scikit-learn", "skl2onnx", "onnxruntime", "numpy", "pandas", "bentoml")


def bootstrap_f1_interval(
    y_true: np.ndarray, predicted: np.ndarray, seed: int, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """Seeded percentile bootstrap (2.5%, 97.5%) of macro F1 over the test rows.

    Macro F1 over the classes of `y_true`, as scikit-learn's `f1_score(labels=...)`; the rows
    are resampled through the confusion matrix (`live_metrics.f1_bootstrap_interval`, the
    same statistic the monitoring report gives live windows).
    """
    classes, codes = np.unique(np.concatenate([y_true, predicted]), return_inverse=True)
    true_codes, predicted_codes = codes[: len(y_true)], codes[len(y_true) :]
    matrix = confusion(true_codes, predicted_codes, len(classes))
    present = np.isin(classes, np.unique(y_true))
    return f1_bootstrap_interval(matrix, present, seed, rounds=resamples)


def outside_training_range(X: pd.DataFrame, stats: Mapping) -> dict[str, float]:
    """Share of test values outside the training min/max (numeric) or unseen (categorical)."""
    shares = {}
    for name, s in stats["numeric"].items():
        values = pd.to_numeric(X[name]).astype(float)
        present = values.notna()
        if present.any():
            outside = (values[present] < s["min"]) | (values[present] > s["max"])
            shares[name] = float(outside.mean())
    for name, s in stats["categorical"].items():
        values = X[name].astype(str)
        present = values != ""
        if present.any():
            shares[name] = float((~values[present].isin(s["categories"])).mean())
    return shares


def package_versions(names: Sequence[str] = KEY_PACKAGES) -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in names}


@dataclass(frozen=True)
class CardInputs:
    """Everything the card shows, gathered by the package stage."""

    task: Any  # tabml.packaging.tasks.PackagingTask: the task section
    profile: object  # tabml.data.profile.DatasetProfile
    params: object  # tabml.params.Params
    classes: list[str]
    metrics: dict
    slices: dict
    training_stats: dict
    parity: object  # tabml.packaging.onnx_export.ParityReport
    gate_results: list[tuple[str, str, str]]  # (gate, limit, result)
    y_true: np.ndarray
    predicted: np.ndarray
    test_frame: pd.DataFrame
    onnx_sha256: str
    versions: dict[str, str]


def gate_results(gates: Any, slices: dict) -> list[tuple[str, str, str]]:
    """(gate, limit, result) for every gate in params.yaml's `gates:` section.

    The package stage writes the card after enforcing `min`, `max`, `min_lift`,
    `every_class_predicted` and `slices`,
    so those passed; `max_regression` compares with a base revision (`make gate`).
    """
    rows = []
    for section, limits in gates.model_dump().items():
        if section == "slices":
            checked = slice_checks(slices, gates.slices) // max(len(gates.slices.min), 1)
            rows += [
                (f"slices min {m}", f">= {t:g} on slices of >= {gates.slices.min_rows} rows",
                 f"pass ({checked} slices)")
                for m, t in sorted(gates.slices.min.items())
            ]  # fmt: skip
            continue
        if section == "every_class_predicted":
            if limits:
                rows.append(("every class predicted", "each test class predicted >= once", "pass"))
            continue
        sign = {"min": ">=", "max": "<=", "min_lift": "lift over the baseline >="}.get(section)
        for metric, threshold in sorted(limits.items()):
            if sign:
                rows.append((f"{section} {metric}", f"{sign} {threshold:g}", "pass"))
            else:
                worse = "worsening <= " if section == "max_regression" else ""
                limit = f"{worse}{threshold:g} vs base"
                rows.append((f"{section} {metric}", limit, "checked by `make gate`"))
    return rows


def _g(x: object) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(_g(c) for c in row) + " |" for row in rows]


def flat_metrics(metrics: Mapping, prefix: str = "") -> dict[str, object]:
    """`{a: {b: 1}}` -> `{"a.b": 1}`: every metric of metrics.json, nested ones too."""
    flat: dict[str, object] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            flat.update(flat_metrics(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def render(card: CardInputs) -> str:
    """The model card as markdown."""
    p, params, stats = card.profile, card.params, card.training_stats
    family = stats.get("model", {}).get("family", params.train.model)  # auto: the chosen one
    n = len(card.y_true)
    task, intervals = card.task.card_section(card)  # the task's sentence and intervals
    lines = [
        f"# Model card: {p.name} / {family}",
        "",
        "## Task",
        task,
        f"ONNX model sha256 `{card.onnx_sha256}`.",
        "",
        "## Data",
        f"- profile `{p.name}`: {p.description}".rstrip(": "),
        f"- source `{p.source.path}`"
        + (f" (package `{p.source.package}`)" if p.source.package else "")
        + (f", sha256 `{p.source.sha256}`" if p.source.sha256 else ", no checksum"),
        f"- training rows {stats['rows']}, test rows {n} (split seed {params.split.seed}, "
        f"test size {params.split.test_size})",
        f"- numeric features: {', '.join(p.features.numeric) or 'none'}",
        f"- categorical features: {', '.join(p.features.categorical) or 'none'}",
        "",
        "## Training parameters",
        f"- family `{family}`, seed {params.train.seed}",
        *(f"- {k}: {v}" for k, v in getattr(params.train, family).model_dump().items()),
        "",
        "## Metrics (test set)",
        "95% intervals: Wilson for accuracy, seeded percentile bootstrap "
        f"({BOOTSTRAP_RESAMPLES} resamples) for f1_macro.",
        "",
    ]
    rows = []
    for name, value in flat_metrics(card.metrics).items():
        if name in intervals:
            (low, high), method = intervals[name]
            rows.append([name, value, f"[{low:.4f}, {high:.4f}] ({method})"])
        else:
            rows.append([name, value, ""])
    lines += _table(["metric", "value", "95% interval"], rows)
    lines += ["", "## Gates", ""]
    lines += _table(["gate", "limit", "result"], card.gate_results)
    min_rows = params.gates.slices.min_rows
    lines += ["", "## Slices (test set)", ""]
    slice_rows = [
        [f, s, v["rows"], v["accuracy"], v["f1_macro"]]
        for f, by in card.slices.items()
        for s, v in by.items()
    ]
    lines += _table(["feature", "slice", "rows", "accuracy", "f1_macro"], slice_rows)
    lines += ["", "## Training range", ""]
    ranges = [[n_, s["min"], s["max"], s["missing_share"]] for n_, s in stats["numeric"].items()]
    lines += _table(["numeric feature", "min", "max", "missing share"], ranges)
    lines += [""]
    cats = [[n_, ", ".join(s["categories"])] for n_, s in stats["categorical"].items()]
    lines += _table(["categorical feature", "categories seen"], cats) if cats else []
    par = card.parity
    lines += [
        "",
        "## Parity check (ONNX vs scikit-learn)",
        f"{par.rows} test rows, {getattr(par, 'label_mismatches', 0)} label mismatches, max "
        f"|onnx - sklearn| {par.max_abs_diff:.2e} (tolerance {par.tolerance:g}).",
        "",
        "## Known limitations",
    ]
    limits = []
    for name, share in outside_training_range(card.test_frame, stats).items():
        if share > OUTSIDE_RANGE_SHARE:
            limits.append(f"- `{name}`: {share:.1%} of test values are outside the training range")
    small = [f"{f}={s} ({v['rows']} rows)" for f, by in card.slices.items()
             for s, v in by.items() if v["rows"] < min_rows]  # fmt: skip
    if small:
        limits.append(
            f"- slices under {min_rows} test rows (not gated, metrics uncertain): "
            + ", ".join(small)
        )
    limits.append(
        "- explanations (`explain`) are baseline Shapley values against the training "
        "median/mode record: they describe this model, not causes in the data"
    )
    lines += limits
    lines += ["", "## Package versions", ""]
    lines += _table(["package", "version"], sorted(card.versions.items()))
    return "\n".join(lines) + "\n"
