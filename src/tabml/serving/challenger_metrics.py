"""The service's view of its challengers: built only when SHADOW or CANARY is set, with their
rows counted on /metrics (`tabml_challenger_rows{role, version, outcome}`)."""

import bentoml

from tabml.scoring.model import PackagedModel
from tabml.serving.challengers import CANARY_ENV, SHADOW_ENV, Challengers, configured


def served_challengers(champion: PackagedModel) -> Challengers | None:
    """The worker's challengers, or None when neither SHADOW nor CANARY is configured."""
    if configured(SHADOW_ENV) is None and configured(CANARY_ENV) is None:
        return None
    rows = bentoml.metrics.Counter(
        name="tabml_challenger_rows",
        documentation="Records a shadow or canary model (or the champion off the answer's "
        "path) handled, by outcome: scored, dropped (queue full), errors, timeouts, "
        "load_errors (the model could not be loaded: counted once per worker)",
        labelnames=["role", "version", "outcome"],
    )

    def count(role: str, version: str, outcome: str, n: int) -> None:
        rows.labels(role=role, version=version, outcome=outcome).inc(n)

    return Challengers(champion, count)
