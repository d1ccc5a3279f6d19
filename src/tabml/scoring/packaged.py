"""The packaged model as the runtime sees it: BentoML names and the exported bento archive.

`models/tabml_service.bento` (a tar.xz written by the package stage) holds the ONNX model and
its metadata (`tabml.scoring.metadata.ModelMetadata`). `tabml.scoring.model.load_packaged`
and `make serve` read it here; nothing in this module needs BentoML itself.
"""

import tarfile
from pathlib import Path

from tabml import yaml_io
from tabml.errors import TabmlError

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
