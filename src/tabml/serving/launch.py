"""`make serve`: serve the exported bento (models/tabml_service.bento), the artefact DVC tracks.

Imports the archive into the BentoML store when that version is not there yet (after
`dvc checkout` of another model, a fresh clone, ...), then execs `bentoml serve <tag>` with
private control endpoints (`private_serve.py`).
Scored inputs are logged to `$TABML_REQUEST_LOG_DIR`, by default this repo's logs/requests/,
labels received on /feedback to `$TABML_FEEDBACK_LOG_DIR`, by default its logs/feedback/.
"""

import os
import sys
from pathlib import Path

from tabml.scoring import entity_tables
from tabml.scoring.packaged import PackagedModelError, archive_tag
from tabml.serving import feedback, request_log
from tabml.serving.api_key import api_key, feedback_key
from tabml.serving.workers import worker_count


def ensure_imported(archive: Path) -> str:
    """Import the exported bento into the store unless that version is there; return its tag."""
    import bentoml

    tag = archive_tag(archive)
    try:
        bentoml.bentos.get(tag)
    except bentoml.exceptions.NotFound:
        bentoml.bentos.import_bento(str(Path(archive).resolve()))
    return tag


# The registry version (v1.0.0) of the served model, when the caller knows it: answers carry
# it in the `X-Registry-Version` header beside `X-Model-Version` (the model tag).
REGISTRY_VERSION_ENV = "TABML_REGISTRY_VERSION"


def serve(archive: Path, host: str, port: int, registry_version: str | None = None) -> None:
    """Replace this process with `bentoml serve` of the archive's bento on host:port."""
    if not Path(archive).exists():
        raise PackagedModelError(f"{archive} does not exist: run `make repro` first")
    api_key()  # an unusable key fails here in one line, not in the worker with a traceback
    feedback_key()
    feedback.feedback_max_bytes()  # so does an unusable log limit
    request_log.max_bytes_from_env(request_log.MAX_BYTES_ENV, request_log.DEFAULT_MAX_BYTES)
    workers = worker_count()  # so does an unusable TABML_WORKERS
    tag = ensure_imported(archive)
    # `bentoml serve <tag>` runs from the bento's directory in the store: give the service
    # an absolute request log path so that `make drift` finds the logs in this repo.
    os.environ.setdefault(request_log.DIR_ENV, str(request_log.log_dir().resolve()))
    os.environ.setdefault(feedback.DIR_ENV, str(feedback.feedback_dir().resolve()))
    # entity tables in the repository are read from here (the server runs in the bento's dir)
    os.environ.setdefault(entity_tables.ROOT_ENV, str(Path.cwd()))
    if registry_version:
        os.environ[REGISTRY_VERSION_ENV] = registry_version
    else:
        os.environ.pop(REGISTRY_VERSION_ENV, None)
    url = f"http://{host}:{port}"
    model = f"{registry_version} ({tag})" if registry_version else tag
    print(f"serving {model} from {archive} on {url} with {workers} worker(s)", flush=True)
    command = [sys.executable, "-m", "tabml.serving.private_serve", tag]
    os.execv(sys.executable, [*command, "--host", host, "--port", str(port)])
