"""A regression answer within the target's physical range: one function, used by the runtime
task (serving and batch) and by the evaluate stage, so all three clip identically."""

import numpy as np


def bounded_interval(
    raw: np.ndarray, half_width: float, low: float | None, high: float | None
) -> list[np.ndarray]:
    """Value, interval low and interval high of raw model values (float64), each clipped to
    [low, high] (None: unbounded on that side)."""
    raw = np.asarray(raw, dtype=np.float64).reshape(-1)
    low = -np.inf if low is None else float(low)
    high = np.inf if high is None else float(high)
    return [np.clip(v, low, high) for v in (raw, raw - half_width, raw + half_width)]
