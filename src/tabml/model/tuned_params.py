"""The tune stage's choice (models/tuned_params.yaml): written by tune, read by train.

Plain YAML a reviewer can read: the chosen `model` family, its full hyperparameter section
(searched values plus the train section's values for the rest) and the CV score behind it.
"""

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tabml import yaml_io
from tabml.errors import TabmlError, describe_errors
from tabml.params import TrainParams

HEADER = (
    "# Written by the tune stage (python -m tabml.stages.tune); train reads it when\n"
    "# train.use_tuned is true. See docs/tuning.md.\n"
)


class TunedParamsError(TabmlError, ValueError):
    """models/tuned_params.yaml is missing, says "not tuned", or does not fit params.py."""


def not_tuned_document() -> dict[str, Any]:
    """What the tune stage writes when train.use_tuned is false: no trial ran."""
    return {"tuned": False, "reason": "train.use_tuned is false: the tune stage ran no trial"}


def tuned_document(
    model: str, hyperparameters: dict[str, Any], cv: dict[str, Any], study: str, trial: int
) -> dict[str, Any]:
    """The chosen family and hyperparameters, the CV score, and where they come from."""
    return {
        "tuned": True,
        "model": model,
        model: dict(hyperparameters),
        "cv": dict(cv),
        "study": study,
        "trial": trial,
    }


def dump(document: dict[str, Any]) -> str:
    """YAML text with keys sorted: the same document always gives the same bytes."""
    return HEADER + yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


def read_tuned(path: Path) -> dict[str, Any]:
    """The document in `path`, a mapping (TunedParamsError if missing or unreadable)."""
    try:
        document = yaml_io.load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise TunedParamsError(
            f"cannot read {path}: {err}; run `dvc repro` (its tune stage writes it)"
        ) from err
    if not isinstance(document, dict):
        raise TunedParamsError(f"{path}: expected a mapping, got {type(document).__name__}")
    return document


def apply_tuned(train: TrainParams, document: dict[str, Any], path: Path) -> TrainParams:
    """`train` with its `model` and that family's section replaced by the tuned ones.

    Raises:
        TunedParamsError: the document says "not tuned" or its values do not validate.
    """
    if not document.get("tuned"):
        raise TunedParamsError(
            f"{path} says not tuned ({document.get('reason', 'no reason given')}) but "
            "train.use_tuned is true: run `dvc repro` so the tune stage runs its trials"
        )
    model = document.get("model")
    raw = train.model_dump()
    raw.update(model=model, use_tuned=True)
    if model in raw and isinstance(document.get(model), dict):
        raw[model] = document[model]
    try:
        return TrainParams.model_validate(raw)
    except ValidationError as err:
        raise TunedParamsError(f"{path}: {describe_errors(err)}") from err
