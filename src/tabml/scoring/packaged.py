"""The packaged model as the runtime sees it: BentoML names and the exported bento archive.

`models/tabml_service.bento` (a tar.xz written by the package stage) holds the ONNX model and
its metadata (target, classes, domain rules, training statistics, params, metrics). Batch
scoring and `make serve` read it here; nothing in this module needs BentoML itself.
"""

import tarfile
from dataclasses import dataclass
from pathlib import Path

from tabml import yaml_io
from tabml.errors import TabmlError
from tabml.scoring.onnx_classifier import OnnxClassifier
from tabml.scoring.onnx_regressor import OnnxRegressor
from tabml.scoring.rules import DomainRule, rules_from_json

MODEL_NAME = "tabml_model"
SERVICE_NAME = "tabml_service"
SERVICE = "tabml.serving.service:TabmlService"
ONNX_FILE = "model.onnx"


class PackagedModelError(TabmlError):
    """No packaged model, or the workspace's ONNX file is not the packaged one."""


def archive_info(archive: Path) -> dict:
    """The bento.yaml of an exported bento (name, version, args with the model tag, ...)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            return yaml_io.load(tar.extractfile("./bento.yaml").read())
    except (OSError, KeyError, tarfile.TarError) as err:
        raise PackagedModelError(f"{archive} is not an exported bento: run `make repro`") from err


def archive_tag(archive: Path) -> str:
    """`name:version` of an exported bento."""
    info = archive_info(archive)
    return f"{info['name']}:{info['version']}"


def read_model(archive: Path) -> tuple[dict, bytes]:
    """The model store entry (model.yaml: name, version, metadata) and ONNX bytes of a bento."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            names = tar.getnames()
            model_dir = next(n.rsplit("/", 1)[0] for n in names if n.endswith("/model.yaml"))
            info = yaml_io.load(tar.extractfile(f"{model_dir}/model.yaml"))
            onnx_bytes = tar.extractfile(f"{model_dir}/{ONNX_FILE}").read()
    except (OSError, StopIteration, KeyError, tarfile.TarError) as err:
        raise PackagedModelError(f"no packaged model in {archive}: run `make repro`") from err
    return info, onnx_bytes


@dataclass(frozen=True)
class PackagedModel:
    classifier: OnnxClassifier
    rules: list[DomainRule]
    target: str
    version: str  # the BentoML model tag, e.g. tabml_model:44799dbe883b456f (a content hash)
    metadata: dict


def load_packaged(onnx_path: Path, bento_path: Path) -> PackagedModel:
    """The ONNX model plus the rules and tag stored beside it in the exported bento."""
    info, packaged_onnx = read_model(bento_path)
    try:
        onnx_bytes = Path(onnx_path).read_bytes()
    except OSError as err:
        raise PackagedModelError(f"no packaged model ({onnx_path}): run `make repro`") from err
    if onnx_bytes != packaged_onnx:
        raise PackagedModelError(f"{onnx_path} is not the model in {bento_path}: run `make repro`")
    meta = info["metadata"]
    # A regression model (metadata `task: regression`) predicts values, see onnx_regressor.py.
    model_class = OnnxRegressor if meta.get("task") == "regression" else OnnxClassifier
    return PackagedModel(
        model_class(onnx_bytes),
        rules_from_json(meta["domain_rules"]),
        meta["target"],
        f"{info['name']}:{info['version']}",
        meta,
    )
