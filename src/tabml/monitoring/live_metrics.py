"""Live metrics of one window of labelled predictions: pure functions on numpy arrays.

Accuracy with a Wilson 95% interval, macro F1 with a seeded bootstrap interval, log loss,
and the calibration check (reliability curve, expected calibration error). For windows
without labels, the estimated accuracy is the mean max-probability: what a calibrated model
expects to get right.
"""

import numpy as np

Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile
BOOTSTRAP_ROUNDS = 1000
CALIBRATION_BINS = 10
# Log loss of a probability of exactly 0 would be infinite: clip as scikit-learn does.
_EPS = np.finfo(np.float64).eps


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (better than p +- z*se near 0 and 1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (float(max(centre - half, 0.0)), float(min(centre + half, 1.0)))


def confusion(true_codes: np.ndarray, predicted_codes: np.ndarray, classes: int) -> np.ndarray:
    """Counts [true class, predicted class]."""
    cells = np.bincount(true_codes * classes + predicted_codes, minlength=classes * classes)
    return cells.reshape(classes, classes)


def macro_f1(matrices: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Macro F1 of one confusion matrix [k, k] or many [b, k, k], over the `present` classes.

    As scikit-learn's `f1_score(average="macro")`: the classes in the labels or predictions,
    F1 = 2 tp / (2 tp + fp + fn), 0 for a class with neither.
    """
    tp = np.diagonal(matrices, axis1=-2, axis2=-1)
    fp = matrices.sum(axis=-2) - tp
    fn = matrices.sum(axis=-1) - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
    return f1[..., present].mean(axis=-1)


def f1_bootstrap_interval(
    matrix: np.ndarray, present: np.ndarray, seed: int, rounds: int = BOOTSTRAP_ROUNDS
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the macro F1 of a window's labelled rows.

    Resampling n rows with replacement and counting them in the confusion matrix is the
    same as drawing the matrix's cells from a multinomial with the observed shares, so each
    round costs k*k numbers instead of n (a million labelled rows need no million-row draw).
    """
    n = int(matrix.sum())
    if n == 0:
        return (0.0, 1.0)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, matrix.ravel() / n, size=rounds).reshape(rounds, *matrix.shape)
    low, high = np.percentile(macro_f1(draws, present), [2.5, 97.5])
    return (float(low), float(high))


def log_loss(true_probabilities: np.ndarray) -> float:
    """Mean negative log of the probability given to the true class."""
    return float(-np.log(np.clip(true_probabilities, _EPS, 1.0)).mean())


def calibration(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> tuple[list[dict], float]:
    """Reliability curve (per confidence bin: mean confidence, accuracy, rows) and the ECE.

    Bins are equal-width over [0, 1], right-closed; ECE = sum over bins of
    rows/total * |accuracy - mean confidence|.
    """
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    rows = np.bincount(index, minlength=bins)
    confidence_sum = np.bincount(index, weights=confidence, minlength=bins)
    correct_sum = np.bincount(index, weights=correct.astype(np.float64), minlength=bins)
    curve, ece = [], 0.0
    for b in np.flatnonzero(rows):
        mean_confidence, accuracy = confidence_sum[b] / rows[b], correct_sum[b] / rows[b]
        ece += rows[b] / len(confidence) * abs(accuracy - mean_confidence)
        curve.append(
            {
                "bin": f"({b / bins:.1f}, {(b + 1) / bins:.1f}]",
                "confidence": float(mean_confidence),
                "accuracy": float(accuracy),
                "rows": int(rows[b]),
            }
        )
    return curve, float(ece)


def labelled_metrics(
    true_codes: np.ndarray, probabilities: np.ndarray, predicted_codes: np.ndarray, seed: int
) -> dict:
    """Accuracy, macro F1 (with intervals), log loss and calibration of labelled rows.

    Args:
        true_codes: index of each row's true class in the model's classes.
        probabilities: [rows, classes], columns in the model's class order.
        predicted_codes: index of each row's predicted class.
    """
    n, classes = probabilities.shape
    correct = true_codes == predicted_codes
    matrix = confusion(true_codes, predicted_codes, classes)
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    accuracy_low, accuracy_high = wilson_interval(int(correct.sum()), n)
    f1_low, f1_high = f1_bootstrap_interval(matrix, present, seed)
    curve, ece = calibration(probabilities.max(axis=1), correct)
    return {
        "labelled": n,
        "accuracy": float(correct.mean()),
        "accuracy_low": accuracy_low,
        "accuracy_high": accuracy_high,
        "f1_macro": float(macro_f1(matrix, present)),
        "f1_macro_low": f1_low,
        "f1_macro_high": f1_high,
        "log_loss": log_loss(probabilities[np.arange(n), true_codes]),
        "expected_calibration_error": ece,
        "reliability": curve,
    }
