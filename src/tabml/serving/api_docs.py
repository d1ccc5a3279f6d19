"""The API's documentation as served: BentoML's Swagger page offline, and a typed OpenAPI doc.

BentoML's page at `/` loads Google Tag Manager from the internet; `docs_page()` is the same
page (its Swagger UI files are served by BentoML from `/static_content/`) with the tracker
removed, so it works offline and loads no third-party script. `describe_model()` replaces
BentoML's generic description (badges, Slack links) with the model's own and gives
`POST /predict` the schema of its answers instead of "a list of objects": the task's fields
(`tabml.scoring.task`) and the ones every answer has.
"""

import re
from pathlib import Path

from tabml.scoring.prediction_ids import PATTERN_TEXT
from tabml.scoring.task import task_for

# Each of BentoML's tracker blocks sits between these two comments.
_TRACKER = re.compile(r"<!-- Google Tag Manager.*?<!-- End Google Tag Manager[^>]*-->", re.S)


def docs_page() -> bytes:
    """BentoML's Swagger page without the Google Tag Manager blocks."""
    import _bentoml_impl.server

    html = (Path(_bentoml_impl.server.__file__).parent / "main-openapi.html").read_text()
    return _TRACKER.sub("", html).replace("BentoML Prediction Service", "tabml API").encode()


_WARNING = {
    "type": "object",
    "properties": {
        "feature": {"type": "string"},
        "value": {},
        "training_range": {"type": "array", "items": {"type": "number"}},
        "training_categories": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
    },
    "required": ["feature", "value", "message"],
}
_COMMON = {
    "warnings": {
        "type": "array",
        "description": "values inside the domain rules but outside the training data",
        "items": _WARNING,
    },
    "prediction_id": {
        "type": "string",
        "pattern": PATTERN_TEXT,
        "description": "this prediction's id (a UUIDv7): send its true value to /feedback",
    },
    "model_version": {"type": "string", "description": "the model that answered"},
}


def answer_schema(target: str, task) -> dict:
    """JSON schema of `POST /predict`'s answer: one object per record, in order; the task's
    fields (label and probabilities, or value and interval), then what every answer has."""
    properties = {**task.answer_schema(target), **_COMMON}
    return {
        "type": "array",
        "items": {"type": "object", "properties": properties, "required": list(properties)},
    }


def describe_model(spec: dict, metadata, version: str) -> dict:
    """BentoML's OpenAPI doc with the model's description and `/predict`'s answer schema."""
    target, task = metadata.target, task_for(metadata)
    spec["info"].update(
        title="tabml API",
        version=version,
        description=(
            f"Predicts **{target}** ({task.describe()}) of tabular records with model "
            f"version `{version}` (also in every answer's `X-Model-Version` header). "
            '`POST /predict` takes `{"records": [...]}` and answers one object per record, '
            "in order. Health: `/livez`, `/readyz`; metrics: `/metrics`."
        ),
    )
    spec["info"].pop("contact", None)
    responses = spec["paths"]["/predict"]["post"]["responses"]
    ok = responses.get(200) or responses["200"]  # an int key before JSON encoding
    ok["content"]["application/json"]["schema"] = answer_schema(target, task)
    ok["headers"] = {"X-Model-Version": {"schema": {"type": "string"}}}
    return spec
