"""The metadata of the model versions monitoring may meet: test metrics, classes, statistics.

A logged `model_version` is a BentoML model tag (`tabml_model:<content hash>`). Its metadata
(what the package stage stored: `metrics` of the test set, `classes`, `training_stats`) comes
from the exported bento (`models/tabml_service.bento`) and from every entry of the BentoML
store under `$BENTOML_HOME` (earlier versions packaged in this repo). A version found in
neither is still reported, without test metrics, drift or the drop rule.
"""

import os
from pathlib import Path

import yaml

from tabml.scoring.packaged import MODEL_NAME, PackagedModelError, read_model


def store_models(bentoml_home: Path) -> dict[str, dict]:
    """Metadata of every `tabml_model` version in a BentoML store, by tag."""
    found = {}
    for file in sorted((Path(bentoml_home) / "models" / MODEL_NAME).glob("*/model.yaml")):
        try:
            info = yaml.safe_load(file.read_text())
            found[f"{info['name']}:{info['version']}"] = info["metadata"]
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            continue  # a half-written or foreign entry: that version just has no metadata
    return found


def known_models(archive: Path, bentoml_home: Path | None = None) -> tuple[dict[str, dict], str]:
    """Metadata by model tag, and the tag of the packaged (current) model.

    Raises:
        PackagedModelError: no exported bento at `archive` (run `make repro`).
    """
    info, _ = read_model(archive)
    current = f"{info['name']}:{info['version']}"
    home = bentoml_home or Path(os.environ.get("BENTOML_HOME", "bentoml_home"))
    models = store_models(home)
    models[current] = info["metadata"]
    if "classes" not in info["metadata"]:
        raise PackagedModelError(f"{archive}: the packaged model lists no classes")
    return models, current
