"""Build-time BentoML packaging: save the ONNX model with its metadata, build the bento, export.

Everything here is reproducible: versions are content hashes, the build never locks packages
(no network), and the exported archive is re-packed without timestamps or owners, so equal
inputs give a byte-identical `models/tabml_service.bento`.
"""

import contextlib
import hashlib
import importlib.metadata
import io
import os
import re
import tarfile
import tempfile
from pathlib import Path

from tabml.scoring.packaged import (
    MODEL_NAME,
    ONNX_FILE,
    SERVICE,
    SERVICE_NAME,
)

# The modules the service imports: the shipped runtime's folders (plus the few top-level
# modules they use), copied into the bento; the package stage depends on the same paths
# in dvc.yaml (a test keeps the two equal).
RUNTIME_PATHS = (
    "__init__.py",
    "atomic.py",
    "errors.py",
    "paths.py",
    "yaml_io.py",
    "scoring",
    "serving",
)
# Pinned to the installed versions: only `bentoml containerize` installs them.
SERVING_PACKAGES = (
    "onnxruntime",
    "numpy",
    "pandas",
    "pydantic",
    "pyyaml",
    "httptools",
    "uvloop",
    "orjson",
)
# Creation times are the one timestamp BentoML writes into its metadata; a fixed value keeps
# the archive reproducible. The real build time is in the local store and `bentoml list`.
FIXED_CREATION_TIME = "2000-01-01 00:00:00+00:00"


def git_blob_sha(data: bytes) -> str:
    """The id git gives this content (`git hash-object`), computed without git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def runtime_modules(package_dir: Path) -> list[str]:
    """The shipped runtime's source files, relative to `package_dir`, sorted."""
    found = []
    for name in RUNTIME_PATHS:
        path = package_dir / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found += [f.relative_to(package_dir).as_posix() for f in files]
    return sorted(found)


def serving_code_shas(package_dir: Path) -> dict[str, str]:
    """Git blob sha of every served module: equal to `git rev-parse <commit>:<path>`."""
    return {
        f"src/tabml/{name}": git_blob_sha((package_dir / name).read_bytes())
        for name in runtime_modules(package_dir)
    }


def content_version(*parts: bytes) -> str:
    """A short, stable version string from content (BentoML tags need lowercase alnum)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def save_model(onnx_path: Path, metadata: dict, version: str) -> str:
    """Put the ONNX file and its metadata into the model store; return the tag."""
    import bentoml

    tag = f"{MODEL_NAME}:{version}"
    _delete_if_present(bentoml.models, tag)
    with bentoml.models.create(tag, metadata=_drop_none(metadata)) as model:
        Path(model.path_of(ONNX_FILE)).write_bytes(Path(onnx_path).read_bytes())
    return tag


def build_bento(src_dir: Path, model_tag: str):
    """`bentoml build` of the service, offline: inline pins, no package locking."""
    import bentoml

    packages = [f"{p}=={importlib.metadata.version(p)}" for p in SERVING_PACKAGES]
    pins = [model_tag, f"bentoml=={bentoml.__version__}", *packages]
    version = content_version(*(pin.encode() for pin in pins))
    _delete_if_present(bentoml.bentos, f"{SERVICE_NAME}:{version}")
    return bentoml.bentos.build(
        SERVICE,
        name=SERVICE_NAME,
        version=version,
        build_ctx=str(src_dir),
        include=[f"tabml/{name}" for name in runtime_modules(src_dir / "tabml")],
        exclude=["__pycache__", "*.pyc", "bentoml_home"],
        labels={"project": "tabml"},
        python={"packages": packages, "lock_packages": False},
        docker={"python_version": "3.11"},  # the lock's Python, not the builder's
        # The service loads exactly this model, never whatever `latest` is in a store.
        args={"model": model_tag},
    )


def export_bento(bento, target: Path) -> Path:
    """`bentoml export` to an absolute path, then re-pack it reproducibly into `target`."""
    import bentoml

    target = Path(target).resolve()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        exported = Path(bentoml.bentos.export_bento(bento.tag, str(Path(tmp) / target.name)))
        repack_reproducibly(exported, exported.with_suffix(".repacked"))
        os.replace(exported.with_suffix(".repacked"), target)
    return target


_CREATION_TIME = re.compile(rb"^(\s*creation_time: ).*$", re.MULTILINE)
# The builder's interpreter, e.g. 3.11.7: only major.minor is kept, so any 3.11 interpreter
# (the lock's Python) packages the same bytes.
_PYTHON_VERSION = re.compile(rb"^(\s*python_version: )'?(\d+\.\d+)\.\d+'?", re.MULTILINE)


def repack_reproducibly(source: Path, target: Path) -> None:
    """Rewrite a tar.xz sorted, with zero mtimes/owners, fixed BentoML creation times and the
    builder's Python as major.minor."""
    with (
        tarfile.open(source, "r:xz") as archive,
        tarfile.open(target, "w:xz", format=tarfile.PAX_FORMAT) as out,
    ):
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            data = archive.extractfile(member).read() if member.isfile() else None
            if data is not None and member.name.endswith((".yaml", ".yml")):
                data = _CREATION_TIME.sub(rb"\g<1>'" + FIXED_CREATION_TIME.encode() + b"'", data)
                data = _PYTHON_VERSION.sub(rb"\g<1>'\g<2>'", data)
                member.size = len(data)
            member.mtime = 0
            member.pax_headers = {}  # PAX headers repeat the mtime with sub-second precision
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            member.mode = 0o755 if member.isdir() else 0o644
            out.addfile(member, io.BytesIO(data) if data is not None else None)


def _drop_none(value):
    """BentoML metadata refuses None; an absent key reads back as None (e.g. no maximum)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _delete_if_present(store_api, tag: str) -> None:
    """Versions are content hashes: re-packaging the same content replaces the entry."""
    import bentoml

    with contextlib.suppress(bentoml.exceptions.NotFound):
        store_api.delete(tag)
