"""The metadata of the model versions monitoring may meet: test metrics, classes, statistics.

A logged `model_version` is a BentoML model tag (`tabml_model:<content hash>`). Its metadata
(`tabml.scoring.metadata.ModelMetadata`: the test set's `metrics`, the task and its classes
or interval, `training_stats`), validated when read, comes from the exported bento
(`models/tabml_service.bento`) and from every entry of the BentoML store under
`$BENTOML_HOME` (earlier versions packaged in this repo). A version found in
neither is still reported, without test metrics, drift or the drop rule.
"""

import os
from collections.abc import Iterable
from pathlib import Path

import yaml

from tabml import yaml_io
from tabml.scoring.metadata import MetadataError, ModelMetadata, read_metadata
from tabml.scoring.packaged import MODEL_NAME, read_model


def store_models(bentoml_home: Path, versions: Iterable[str]) -> dict[str, ModelMetadata]:
    """Metadata of the given `tabml_model:<version>` tags found in a BentoML store."""
    found = {}
    store = Path(bentoml_home) / "models" / MODEL_NAME
    for tag in sorted(set(versions)):
        name, _, version = tag.partition(":")
        file = store / version / "model.yaml"
        if name != MODEL_NAME or not version or "/" in version or not file.is_file():
            continue
        try:
            info = yaml_io.load(file.read_text())
            found[f"{info['name']}:{info['version']}"] = read_metadata(info["metadata"], tag)
        except (OSError, yaml.YAMLError, KeyError, TypeError, MetadataError):
            continue  # a half-written or foreign entry: that version just has no metadata
    return found


def packaged_model(archive: Path) -> tuple[str, ModelMetadata]:
    """The tag and metadata of the packaged (current) model.

    Raises:
        PackagedModelError: no exported bento at `archive` (run `make repro`).
        MetadataError: its metadata is not a record this runtime reads.
    """
    info, _ = read_model(archive)
    tag = f"{info['name']}:{info['version']}"
    return tag, read_metadata(info["metadata"], tag)


def default_store() -> Path:
    """The BentoML store: `$BENTOML_HOME`, else `bentoml_home/` (as the Makefile sets it)."""
    return Path(os.environ.get("BENTOML_HOME", "bentoml_home"))
