"""The online service: `POST /predict` over the packaged ONNX model (BentoML, onnxruntime).

The request model is rebuilt at import time from the domain rules saved with the model, so
the API accepts exactly what the validate stage accepts. No pickle is loaded: the model is
the `.onnx` file, everything else is JSON metadata in the model store entry.
"""

import gc
import json
import os
from typing import Annotated, Any

import bentoml
from bentoml.validators import ContentType
from pydantic import BaseModel
from starlette.responses import JSONResponse

from tabml.scoring.entity_tables import input_rules
from tabml.scoring.explain import Explainer, add_explanations, requested_top
from tabml.scoring.metadata import ModelMetadata, read_metadata
from tabml.scoring.model import PackagedModel, from_store
from tabml.scoring.packaged import MODEL_NAME, SERVICE_NAME
from tabml.scoring.prediction_ids import identify
from tabml.scoring.task import task_for
from tabml.serving import feedback, http_limits
from tabml.serving.api_docs import describe_model, docs_page
from tabml.serving.api_key import api_key, feedback_key
from tabml.serving.body_values import ValueLimit
from tabml.serving.challenger_metrics import served_challengers
from tabml.serving.client_errors import log_client_errors_as_warnings
from tabml.serving.entity_lookup import entity_store
from tabml.serving.http_gate import CLOSED, RequestGate, served_paths
from tabml.serving.microbatch import MicroBatcher
from tabml.serving.request_log import (
    RequestLogger,
    log_dir,
    logging_enabled,
)
from tabml.serving.request_schema import request_model
from tabml.serving.workers import worker_count


class ServiceArgs(BaseModel):
    """Bento arguments: the package stage records the exact model tag in the bento."""

    model: str = f"{MODEL_NAME}:latest"  # only for `bentoml serve tabml.service` from source


MODEL = bentoml.models.BentoModel(bentoml.use_arguments(ServiceArgs).model)


def _metadata() -> ModelMetadata:
    stored = MODEL.stored
    if stored is None:
        raise RuntimeError(
            f"no model {MODEL.tag} in the BentoML store: run `make repro` first "
            "(serving reads the store under BENTOML_HOME, see the Makefile)"
        )
    return read_metadata(stored.info.metadata, str(MODEL.tag))


METADATA = _metadata()
# Limits BentoML does not configure: header size and read time (uvicorn), and client errors
# logged as one WARNING line. Both act in the worker process, which imports this module.
http_limits.install()
CLIENT_ERRORS_UNLOGGED = bentoml.metrics.Counter(
    name="tabml_client_errors_unlogged",
    documentation="Client-error (4xx) log lines left out by the log's line budget",
)
log_client_errors_as_warnings(CLIENT_ERRORS_UNLOGGED.inc)
# Entity features are looked up by their key (entity_lookup.py), not sent.
PredictRequest = request_model(
    input_rules(METADATA.domain_rules, METADATA.entities), METADATA.max_records
)
# A classifier's labels are its classes, a regression model's numbers.
FeedbackRequest = feedback.feedback_model(task_for(METADATA).feedback_label())

OUT_OF_RANGE = bentoml.metrics.Counter(
    name="tabml_out_of_training_range",
    documentation="Input values inside the domain rules but outside the training range",
    labelnames=["feature"],
)

LOG_DROPPED = bentoml.metrics.Counter(
    name="tabml_request_log_dropped",
    documentation="Scored inputs not written to the request log (queue full or disk error)",
)

LOG_PRUNED = bentoml.metrics.Counter(
    name="tabml_request_log_pruned",
    documentation="Logged inputs deleted with the oldest request log files to stay in its limit",
)

FEEDBACK_REFUSED = bentoml.metrics.Counter(
    name="tabml_feedback_refused",
    documentation="Labels refused on /feedback, by reason (full: the log holds its limit; "
    "busy: its queue is full; write_error: the write failed); none of them was accepted",
    labelnames=["reason"],
)

GATE_ANSWERED = bentoml.metrics.Counter(
    name="tabml_http_gate_answered",
    documentation="Requests answered by the HTTP gate before BentoML saw them, by reason "
    "(unknown_route, unauthorized, forbidden, not_json, encoded_body, body_too_large, "
    "body_too_slow, too_many_values, websocket, unsupported_scope, client_disconnected: no answer)",
    labelnames=["reason"],
)

MODEL_VERSION = os.environ.get("TABML_MODEL_VERSION") or str(MODEL.tag)
# Health checks stay open for probes; the docs describe the API, they do not use it.
OPEN_PATHS = ("/livez", "/readyz", "/healthz", "/", "/docs.json", "/schema.json")


def feedback_keys() -> dict[str, bytes]:
    """`/feedback`'s own key (api_key.py): the feedback key; closed when only an API key is
    set; open (no entry) when neither is."""
    key = feedback_key()
    if key is not None:
        return {"/feedback": key}
    return {"/feedback": CLOSED} if api_key() is not None else {}


def version_headers() -> list[tuple[bytes, bytes]]:
    """`X-Model-Version` (the model tag) on every API answer, and `X-Registry-Version`
    (v1.0.0) when `make serve` found the model in the registry."""
    headers = [(b"x-model-version", MODEL_VERSION.encode())]
    registry_version = os.environ.get("TABML_REGISTRY_VERSION")
    if registry_version and registry_version.isascii() and registry_version.isprintable():
        headers.append((b"x-registry-version", registry_version.encode()))
    return headers


class GuardedService(bentoml.Service):
    """A BentoML service whose ASGI app is wrapped in the request gate (http_gate.py).

    The gate must be outside BentoML's own middleware (metrics first of all), which
    `add_asgi_middleware` cannot do: BentoML puts those inside its timeout middleware.
    """

    def to_asgi(self, is_main: bool = True) -> Any:
        app = super().to_asgi(is_main)
        known, prefixes, static = served_paths(app)
        spec = describe_model(self.openapi_spec.asdict(), METADATA, MODEL_VERSION)
        return RequestGate(
            app,
            known_paths=known | static,
            known_prefixes=prefixes,
            api_paths=[api.route for api in self.apis.values()],
            # ~2 kB per record is generous for JSON records of a few features; /feedback's
            # 10,000 labels (feedback.MAX_BODY_BYTES) fit in it by default.
            max_body_bytes=max(2048 * METADATA.max_records, feedback.MAX_BODY_BYTES),
            api_key=api_key(),
            path_keys=feedback_keys(),
            open_paths=[*OPEN_PATHS, *static],  # the docs page's own files
            pages={
                "/": (b"text/html; charset=utf-8", docs_page()),
                "/docs.json": (b"application/json", json.dumps(spec).encode()),
            },
            answer_headers=version_headers(),
            max_field_errors=METADATA.max_field_errors,
            max_values=body_value_limits(),
            on_reject=lambda reason: GATE_ANSWERED.labels(reason=reason).inc(),
        )


def body_value_limits() -> dict[str, ValueLimit]:
    """Per API path, the commas outside strings a body may hold (http_gate.py): twice what a
    request at the limits has (items x fields, the separators, `explain`), so a request a
    little over them still gets pydantic's own field errors, at a cost of that order."""
    fields, records = len(METADATA.domain_rules), METADATA.max_records
    return {
        "/predict": ValueLimit(
            2 * (records * fields + 1),
            "records",
            f"at most {records} records of {fields} fields each per request",
        ),
        "/feedback": ValueLimit(
            2 * (feedback.MAX_LABELS * 2 + 1),
            "labels",
            f"at most {feedback.MAX_LABELS} labels of 2 fields each per request",
        ),
    }


# Shared with the benchmark's no-op server, so both run with identical server settings.
SERVICE_CONFIG: dict[str, Any] = {
    "name": SERVICE_NAME,
    "service_class": GuardedService,
    "description": f"Predicts {METADATA.target} of tabular records (model {MODEL_VERSION})",
    "workers": worker_count(),  # TABML_WORKERS; launch.serve has checked it
    "traffic": {"timeout": 10},
    # The access log costs throughput (docs/benchmarks.md, serving); request counts and
    # latencies stay on /metrics. TABML_ACCESS_LOG=1 turns it on.
    "logging": {"access": {"enabled": os.environ.get("TABML_ACCESS_LOG") == "1"}},
    # OpenTelemetry spans for every request halve throughput, and no exporter is configured by
    # default; TABML_TRACING=1 traces /predict again (for a tracing backend in bentoml config).
    "tracing": {"excluded_urls": [] if os.environ.get("TABML_TRACING") == "1" else ["/predict"]},
}

# A fixed media type: without one, BentoML derives it from the output's JSON schema on every
# response (a sixth of a no-op request's CPU time).
Answers = Annotated[list[dict[str, Any]], ContentType("application/json")]
Accepted = Annotated[dict[str, int], ContentType("application/json")]


def load_model(stored_model: Any) -> PackagedModel:
    """The packaged model of a store entry: ONNX session, metadata, task and input path."""
    return from_store(stored_model)


def count_warnings(answers: list[dict]) -> list[dict]:
    for answer in answers:
        for warning in answer["warnings"]:
            OUT_OF_RANGE.labels(feature=warning["feature"]).inc()
    return answers


def freeze_startup_heap() -> None:
    """Hide the objects made at start-up (imports, model, schemas) from the garbage collector.

    They live as long as the worker, and every full collection would walk them all again
    (over 100,000 objects for the penguin service: milliseconds per pass, and a share of every
    request's CPU time under load). Called at the end of a service's `__init__`.
    """
    gc.collect()
    gc.freeze()


class ServedInputs:
    """The request log as served: enqueue scored rows, count drops on /metrics, flush at exit.

    One per worker (its writer thread's files carry the worker's pid). A no-op when
    `TABML_REQUEST_LOG=0`.
    """

    def __init__(self, model_version: str, target: str | None = None, task: Any = None) -> None:
        self.logger = RequestLogger(log_dir()) if logging_enabled() else None
        self.model_version = model_version
        self.target = target
        self.logged = None if task is None else task.logged  # an answer's prediction fields
        self.dropped = self.pruned = 0

    def log(
        self, rows: list[dict], answers: list[dict] | None = None, version: str | None = None
    ) -> None:
        """Log scored rows; with their answers, also each one's id, label and probabilities.
        `version`: the model that answered them, when not the served one (a canary)."""
        if self.logger is None:
            return
        # O(1) here: the logger's thread builds the lines (request_log.py).
        self.logger.log(
            rows,
            version or self.model_version,
            answers=answers,
            target=self.target,
            logged=self.logged,
        )
        if self.logger.dropped != self.dropped:
            LOG_DROPPED.inc(self.logger.dropped - self.dropped)
            self.dropped = self.logger.dropped
        if self.logger.pruned_records != self.pruned:
            LOG_PRUNED.inc(self.logger.pruned_records - self.pruned)
            self.pruned = self.logger.pruned_records

    def close(self) -> None:
        if self.logger is not None:
            self.logger.close()


@bentoml.service(**SERVICE_CONFIG)
class TabmlService:
    """Predict the target of tabular records with the packaged ONNX model."""

    model = MODEL

    def __init__(self) -> None:
        self.model = load_model(self.model)
        self.explainer = Explainer(self.model)
        # Concurrent requests share one onnxruntime call (microbatch.py, docs/serving.md).
        self.batcher = MicroBatcher(self.model.score, max_rows=METADATA.max_records)
        self.inputs = ServedInputs(MODEL_VERSION, METADATA.target, self.model.task)
        self.labels = feedback.FeedbackLog()
        self.challengers = served_challengers(self.model)  # None without SHADOW/CANARY
        self.entities = entity_store(METADATA.entities)  # None without entity tables
        freeze_startup_heap()

    # `async`: scoring is microseconds of work, cheaper on the event loop than in a thread
    # pool, and only requests on the loop can share a model call.
    @bentoml.api(route="/predict", input_spec=PredictRequest)
    async def predict(
        self, records: list[Any], ctx: bentoml.Context, explain: bool | int = False
    ) -> Answers:
        """One answer per record, in order: label and class probabilities (a regression
        model: value and interval), range warnings, prediction id and model version.

        With `"explain": true` (or k), also the 3 (k) largest feature contributions.
        """
        rows = [record.model_dump(by_alias=True) for record in records]
        if self.entities is not None:  # the looked-up values are logged with the rows
            problems = self.entities.fill(rows)
            if problems:
                shown = problems[: METADATA.max_field_errors]  # bounded, as every 400
                # with a Context parameter BentoML answers with ctx.response's status code
                ctx.response.status_code = 400
                return JSONResponse({"detail": shown, "error_count": len(problems)}, 400)
        challengers = self.challengers
        if challengers is not None and challengers.canary is not None and not explain:
            key = ctx.request.headers.get("x-entity-key")
            answers = await challengers.answer(rows, self.batcher.score, MODEL_VERSION, key)
            for version, (logged_rows, logged) in challengers.by_version(rows, answers).items():
                self.inputs.log(logged_rows, count_warnings(logged), version)
            challengers.after(rows, answers)
            return answers
        answers = count_warnings(await self.batcher.score(rows))
        if explain:  # an extra model call of its own, outside the shared micro-batch
            top = requested_top(explain)
            explained = self.explainer.explain(self.model.inputs(rows), top)
            answers = add_explanations(answers, explained)
        identify(answers, self.inputs.model_version)
        self.inputs.log(rows, answers)  # after scoring: only inputs that got an answer
        if challengers is not None:
            challengers.after(rows, answers)  # off the answer's path (challengers.py)
        return answers

    @bentoml.api(route="/feedback", input_spec=FeedbackRequest)
    async def feedback(self, labels: list[Any], source: str | None = None) -> Accepted:
        """True labels of earlier predictions, by prediction id (joined by `make monitor`).

        Answered once written: 507 when the feedback log is full, 503 when a write failed
        or its queue is full (nothing accepted then; counted on /metrics).
        """
        status, answer = await self.labels.log(labels, source)
        if status == 200:
            return answer
        FEEDBACK_REFUSED.labels(reason=answer["reason"]).inc(answer["refused"])
        return JSONResponse(answer, status_code=status)

    @bentoml.on_shutdown
    def close_request_log(self) -> None:
        """Flush the request log's queue before the worker exits."""
        self.inputs.close()

    @bentoml.on_shutdown
    def close_challengers(self) -> None:
        """Score what the shadow has queued and flush its log before the worker exits."""
        if self.challengers is not None:
            self.challengers.close()

    @bentoml.on_shutdown
    def close_feedback_log(self) -> None:
        """Flush the feedback log's queue before the worker exits."""
        self.labels.close()
