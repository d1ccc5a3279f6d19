"""Numbers as the stages write them into metrics, plots and summaries."""


def reported(x: float) -> float:
    """A plain float rounded to 6 decimals: short, diffable JSON, and the same bytes when a
    library's last bits move (a NumPy scalar would not serialise at all)."""
    return round(float(x), 6)
