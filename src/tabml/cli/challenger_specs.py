"""`SHADOW=` / `CANARY=` of `make serve` and `make batch`: `<version or file.bento>[:share]`
-> the challenger the workers load (`tabml.serving.challengers.Challenger`)."""

import os
from pathlib import Path

from tabml.serving import challengers
from tabml.serving.challengers import Challenger, ChallengerError, parse_share


def split_spec(spec: str, what: str, share_required: bool) -> tuple[str, float]:
    """`v1.1.0:0.5` -> ("v1.1.0", 0.5); `v1.1.0` -> ("v1.1.0", 1.0) unless a share is required."""
    name, sep, share = spec.rpartition(":")
    if not sep:
        if share_required:
            raise ChallengerError(f"{what}={spec!r}: expected <version>:<share>, e.g. v1.1.0:0.1")
        return spec, 1.0
    return name, parse_share(share, f"{what}={spec!r}")


def resolve(spec: str, what: str, share_required: bool = False) -> Challenger:
    """A registry version's bento (from the DVC cache at its tag) or an exported bento file."""
    from tabml.registry.archives import version_archive

    name, share = split_spec(spec.strip(), what, share_required)
    if not name:
        raise ChallengerError(f"{what}={spec!r}: name a registered version, e.g. v1.1.0")
    if name.endswith(".bento"):
        archive = Path(name)
        if not archive.is_file():
            raise ChallengerError(f"{what}={spec!r}: {archive} is not a file")
    else:
        archive = version_archive(name)
    return Challenger(archive.resolve(), share, name)


def unpacked(archive: Path) -> tuple[Path, Path]:
    """(ONNX file, bento) of an exported bento, as batch scoring loads them (Dask workers read
    both): the ONNX model written to `$BENTOML_HOME/challengers/`, named by its hash."""
    import hashlib

    from tabml import atomic
    from tabml.registry.archives import archive_folder
    from tabml.scoring.packaged import read_model

    _, onnx_bytes = read_model(archive)
    digest = hashlib.sha256(onnx_bytes).hexdigest()[:16]
    onnx = archive_folder() / f"{archive.stem}-{digest}.onnx"
    onnx.parent.mkdir(parents=True, exist_ok=True)
    if not onnx.exists() or onnx.read_bytes() != onnx_bytes:
        atomic.write_bytes(onnx, onnx_bytes)
    return onnx, archive


def export(shadow: str | None, canary: str | None) -> list[str]:
    """Put the challengers in the environment the server's workers inherit; describe them."""
    described = []
    for env, spec, what, required in (
        (challengers.SHADOW_ENV, shadow, "SHADOW", False),
        (challengers.CANARY_ENV, canary, "CANARY", True),
    ):
        os.environ.pop(env, None)
        if spec:
            found = resolve(spec, what, required)
            os.environ[env] = found.encode()
            described.append(f"{what.lower()} {found.name} on {found.share:.0%} of records")
    if described:
        # The bento runs from its store directory: give the workers an absolute log path.
        os.environ.setdefault(challengers.LOG_DIR_ENV, str(challengers.log_dir().resolve()))
    return described
