"""Benchmark variant: the real model behind BentoML's adaptive batching (`batchable=True`).

Kept out of the package: measured against the plain service in `make bench-serve`, batching
does not pay for a model this cheap (see docs/benchmarks.md, serving section).
"""

from typing import Any

import bentoml
from pydantic import ConfigDict, create_model

from tabml.serving.service import (
    MODEL,
    SERVICE_CONFIG,
    Answers,
    PredictRequest,
    count_warnings,
    freeze_startup_heap,
    load_model,
)

# Adaptive batching takes one argument: the request without `explain`.
RecordsRequest = create_model(
    "RecordsRequest",
    __config__=ConfigDict(extra="forbid", strict=True),
    records=(
        PredictRequest.model_fields["records"].annotation,
        PredictRequest.model_fields["records"],
    ),
)


@bentoml.service(**{**SERVICE_CONFIG, "name": "batchable_service"})
class BatchableService:
    model = MODEL

    def __init__(self) -> None:
        self.scorer = load_model(self.model)
        freeze_startup_heap()

    # A generous latency budget: small ones (50 ms) shed most requests as 503 under load.
    @bentoml.api(
        route="/predict",
        input_spec=RecordsRequest,
        batchable=True,
        max_batch_size=256,
        max_latency_ms=1000,
    )
    async def predict(self, records: list[Any]) -> Answers:
        rows = [record.model_dump(by_alias=True) for record in records]
        return count_warnings(self.scorer.score(rows))
