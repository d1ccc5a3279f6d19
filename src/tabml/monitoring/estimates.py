"""Estimated accuracy, macro F1 and ROC AUC of a window before its labels arrive.

Confidence-based performance estimation (the idea of NannyML's CBPE), in numpy: for a
calibrated classifier, each row's true class is a draw from the probabilities the model
gave it. Drawing the window's labels from those probabilities many times (seeded) gives the
distribution of the metric the window *would* show once labelled; its mean is the estimate
and its 5th-95th percentiles the 90% interval. The interval is the spread of the realised
metric over label draws, so it holds the metric the labels will show, not only its
expectation.

Up to `EXACT_ROWS` rows the labels are drawn row by row. Beyond that the metrics are
functions of sums of independent per-row vectors (the confusion matrix cells and, per class,
the rank sum of its positives), so the sums are drawn from the normal distribution with
their exact mean and covariance (central limit theorem): no million-row draws.

Only as good as the calibration: `calibration_check` compares the estimate computed on a
labelled window's rows with what the labels measured.
"""

import numpy as np

ESTIMATE_LEVEL = 0.90
ROUNDS = 500  # label draws of the exact method
NORMAL_ROUNDS = 2000  # draws of the sums (cheap: a few numbers each)
EXACT_ROWS = 2_000  # above: the normal approximation of the sums
CHUNK_ROWS = 200_000  # rows per step of the covariance sum (bounded memory)
METRICS = ("accuracy", "f1_macro", "roc_auc")
# The calibration check: a labelled window's measured metric must lie inside the 99%
# interval of the estimate made from the same rows, widened by 0.02 on each side (an
# estimate a few hundredths off is still useful; a calibrated model fails it in about 1% of
# windows per metric).
CHECK_LEVEL = 0.99
CHECK_TOLERANCE = 0.02


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of `values`, ties given the mean of their ranks (scipy's `rankdata`, at a
    third of its time on a million rows)."""
    with np.errstate(over="ignore"):  # a value beyond float32's range: not narrowed
        narrow = values.astype(np.float32)
    if (narrow == values).all():  # float32 probabilities (an ONNX model's), logged as double:
        values = narrow  # the same order and ties, sorted in about half the time
    del narrow
    order = np.argsort(values)
    ordered = values[order]
    first = np.empty(len(values), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    del ordered  # ten million rows: free each temporary once used
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(values))
    group = np.cumsum(first, dtype=np.int64)
    del first
    group -= 1
    in_order = ((starts + ends + 1) / 2)[group]  # the ranks in sorted order
    del group
    ranks = np.empty(len(values))
    ranks[order] = in_order
    return ranks


def class_ranks(probabilities: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """`average_ranks` of each class's probabilities [rows, classes], of the rows in `keep`
    (a mask) if given: a column at a time, without a copy of those rows' probabilities."""
    rows = len(probabilities) if keep is None else int(keep.sum())
    ranks = np.empty((rows, probabilities.shape[1]))
    for c in range(probabilities.shape[1]):
        column = probabilities[:, c] if keep is None else probabilities[keep, c]
        ranks[:, c] = average_ranks(column)
    return ranks


def roc_auc_ovr(
    true_codes: np.ndarray, probabilities: np.ndarray, ranks: np.ndarray | None = None
) -> float | None:
    """Macro one-vs-rest ROC AUC from rank sums (ties count half), as scikit-learn's
    `roc_auc_score(multi_class="ovr", average="macro")` (binary: the usual AUC).

    Classes without both positives and negatives are left out; None when no class has both.
    `ranks`: `class_ranks(probabilities)` when already computed.
    """
    n, classes = probabilities.shape
    aucs = []
    for c in range(classes):
        positive = true_codes == c
        n1 = int(positive.sum())
        if 0 < n1 < n:
            ranks_c = average_ranks(probabilities[:, c]) if ranks is None else ranks[:, c]
            aucs.append((ranks_c[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * (n - n1)))
    return float(np.mean(aucs)) if aucs else None


def _metrics_of_draws(cells: np.ndarray, rank_sums: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Accuracy, macro F1 and OvR AUC per draw from its confusion matrix [draws, true, pred]
    and the rank sums of each class's positives [draws, classes]."""
    tp = np.diagonal(cells, axis1=1, axis2=2)
    positives, predicted = cells.sum(axis=2), cells.sum(axis=1)
    denominator = positives + predicted
    f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
    present = denominator > 0  # in the labels or the predictions, as scikit-learn counts
    f1_macro = (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    negatives = n - positives
    both = (positives > 0.5) & (negatives > 0.5)
    auc = np.divide(
        rank_sums - positives * (positives + 1) / 2,
        positives * negatives,
        out=np.zeros(rank_sums.shape),
        where=both,
    )
    auc_macro = np.where(
        both.any(axis=1), (auc * both).sum(axis=1) / np.maximum(both.sum(axis=1), 1), np.nan
    )
    return {"accuracy": np.trace(cells, axis1=1, axis2=2) / n, "f1_macro": f1_macro,
            "roc_auc": auc_macro}  # fmt: skip


def _exact_draws(probabilities, predicted, ranks, rng, rounds):
    n, k = probabilities.shape
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative[:, -1] = np.inf  # rounding must never push a draw past the last class
    cells = np.zeros((rounds, k, k))
    rank_sums = np.zeros((rounds, k))
    for r in range(rounds):  # one round at a time: memory of one window, not of all rounds
        drawn = (rng.random(n)[:, None] >= cumulative).sum(axis=1)
        cells[r] = np.bincount(drawn * k + predicted, minlength=k * k).reshape(k, k)
        rank_sums[r] = np.bincount(drawn, weights=ranks[np.arange(n), drawn], minlength=k)
    return cells, rank_sums


def _normal_draws(probabilities, predicted, ranks, rng, rounds):
    """Draws of the sums (k*k confusion cells, k rank sums) from their normal approximation.

    Row i adds sum_t B_t v_t, B one-hot ~ Categorical(p_i): v_t is 1 on the cell (t, pred_i)
    and r_it on rank sum t. Its mean is m_i = sum_t p_t v_t and its covariance
    sum_t p_t v_t v_t' - m_i m_i'. Rows predicted as class j touch only the k cells of
    column j and the k rank sums, so each class's rows add a dense 2k x 2k block (sums and
    one matrix product: no per-row d x d outer products).
    """
    n, k = probabilities.shape
    d = k * k + k
    mean, covariance = np.zeros(d), np.zeros((d, d))
    for j in range(k):
        index = np.concatenate([np.arange(k) * k + j, k * k + np.arange(k)])
        block, block_mean = np.zeros((2 * k, 2 * k)), np.zeros(2 * k)
        for start in range(0, n, CHUNK_ROWS):
            rows = predicted[start : start + CHUNK_ROWS] == j
            p, r = (
                probabilities[start : start + CHUNK_ROWS][rows],
                ranks[start : start + CHUNK_ROWS][rows],
            )
            u = np.hstack([p, p * r])  # m_i on the block's coordinates
            block_mean += u.sum(axis=0)
            diagonal = np.arange(k)
            block[diagonal, diagonal] += p.sum(axis=0)
            block[diagonal, k + diagonal] += (p * r).sum(axis=0)
            block[k + diagonal, diagonal] += (p * r).sum(axis=0)
            block[k + diagonal, k + diagonal] += (p * r * r).sum(axis=0)
            block -= u.T @ u
        mean[index] += block_mean
        covariance[np.ix_(index, index)] += block
    values, basis = np.linalg.eigh(covariance)
    root = basis * np.sqrt(np.clip(values, 0.0, None))
    draws = mean + rng.standard_normal((rounds, d)) @ root.T
    return draws[:, : k * k].reshape(rounds, k, k), draws[:, k * k :]


def draw_metrics(
    probabilities: np.ndarray,
    predicted_codes: np.ndarray,
    seed: int,
    exact_rows: int = EXACT_ROWS,
    ranks: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Accuracy, macro F1 and ROC AUC of many label draws (probabilities [rows, classes] in
    the model's class order, each row's predicted class index); undefined draws dropped.
    `ranks`: `class_ranks(probabilities)` when already computed."""
    n = len(probabilities)
    rng = np.random.default_rng(seed)
    ranks = class_ranks(probabilities) if ranks is None else ranks
    if n <= exact_rows:
        cells, rank_sums = _exact_draws(probabilities, predicted_codes, ranks, rng, ROUNDS)
    else:
        cells, rank_sums = _normal_draws(probabilities, predicted_codes, ranks, rng,
                                         NORMAL_ROUNDS)  # fmt: skip
    found = {}
    for metric, values in _metrics_of_draws(cells, rank_sums, n).items():
        defined = values[~np.isnan(values)]
        if len(defined) >= len(values) / 2:  # mostly undefined (one class only): no estimate
            found[metric] = defined
    return found


def estimate(
    probabilities: np.ndarray,
    predicted_codes: np.ndarray,
    seed: int,
    level: float = ESTIMATE_LEVEL,
    exact_rows: int = EXACT_ROWS,
) -> dict[str, float]:
    """`estimated_<metric>` and its `_low`/`_high` interval ends (`level`, 90%) for accuracy,
    macro F1 and ROC AUC of rows whose labels are unknown."""
    n = len(probabilities)
    if n == 0:
        return {}
    tail = (1 - level) / 2 * 100
    found = {}
    for metric, values in draw_metrics(probabilities, predicted_codes, seed, exact_rows).items():
        low, high = np.percentile(values, [tail, 100 - tail])
        found[f"estimated_{metric}"] = float(values.mean())
        found[f"estimated_{metric}_low"] = float(low)
        found[f"estimated_{metric}_high"] = float(high)
    # A calibrated model's expected accuracy exactly: its mean probability of what it said.
    found["estimated_accuracy"] = float(probabilities[np.arange(n), predicted_codes].mean())
    return found


def calibration_check(
    probabilities: np.ndarray,
    predicted_codes: np.ndarray,
    measured: dict,
    seed: int,
    ranks: np.ndarray | None = None,
) -> dict:
    """Would the estimate have been right on these labelled rows? `ok` when every measured
    metric lies inside the estimate's `CHECK_LEVEL` interval widened by `CHECK_TOLERANCE`
    on each side, else `poor` with the metrics that miss."""
    tail = (1 - CHECK_LEVEL) / 2 * 100
    misses, estimated = [], {}
    drawn = draw_metrics(probabilities, predicted_codes, seed, ranks=ranks)
    for metric, values in drawn.items():
        if measured.get(metric) is None:
            continue
        low, high = np.percentile(values, [tail, 100 - tail])
        estimated[metric] = float(values.mean())
        if not low - CHECK_TOLERANCE <= measured[metric] <= high + CHECK_TOLERANCE:
            misses.append(
                f"{metric} measured {measured[metric]:.3f}, estimated {values.mean():.3f} "
                f"({CHECK_LEVEL:.0%} interval {low:.3f}-{high:.3f})"
            )
    return {"status": "poor" if misses else "ok", "misses": misses, "estimated": estimated,
            "labelled": len(probabilities)}  # fmt: skip


def window_estimates(
    probabilities: np.ndarray,
    predicted_codes: np.ndarray,
    true_codes: np.ndarray,
    measured: dict,
    seed: int,
) -> dict:
    """What a classifier's window reports beside its counts: the estimates from all its
    scored rows and, where labels arrived, the measured ROC AUC and the calibration check
    on the labelled rows (`measured`: their accuracy and macro F1; -1 = no label)."""
    usable = predicted_codes >= 0
    probabilities = rows_of(probabilities, usable)
    predicted_codes = rows_of(predicted_codes, usable)
    true_codes = rows_of(true_codes, usable)
    found = estimate(probabilities, predicted_codes, seed)
    labelled = true_codes >= 0
    if labelled.any():
        # The labelled rows' ranks once, for the measured AUC and the check's draws; before
        # the copy of their probabilities (ten million rows: the two sorts' memory apart).
        ranks = class_ranks(probabilities, None if labelled.all() else labelled)
        probabilities = rows_of(probabilities, labelled)  # a copy only if some have no label
        found["roc_auc"] = roc_auc_ovr(rows_of(true_codes, labelled), probabilities, ranks)
        found["calibration_check"] = calibration_check(
            probabilities,
            rows_of(predicted_codes, labelled),
            {**measured, "roc_auc": found["roc_auc"]},
            seed,
            ranks,
        )
    return found


def rows_of(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """`values[keep]`, or `values` itself when every row is kept (no copy of ten million)."""
    return values if keep.all() else values[keep]


def trust(windows: list[dict], min_labelled: int) -> dict:
    """Whether to trust a version's estimates: the calibration check of its newest window
    with at least `min_labelled` labelled predictions (`unchecked` when there is none)."""
    checked = [w for w in windows if w.get("calibration_check") and w["labelled"] >= min_labelled]
    if not checked:
        return {"status": "unchecked",
                "reason": f"no window has {min_labelled} labelled predictions to check the "
                "calibration the estimates rely on"}  # fmt: skip
    latest = checked[-1]
    check = latest["calibration_check"]
    if check["status"] == "ok":
        reason = (
            f"window {latest['start']}: the labels measured what the estimate expected "
            f"({check['labelled']} labelled predictions)"
        )
    else:
        reason = f"window {latest['start']}: calibration too poor to trust the estimates: " + (
            "; ".join(check["misses"])
        )
    return {"status": check["status"], "window": latest["start"], "reason": reason}
