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

from tabml.scoring.packaged import PackagedModelError, archive_tag
from tabml.serving import feedback, request_log
from tabml.serving.api_key import api_key
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


def serve(archive: Path, host: str, port: int) -> None:
    """Replace this process with `bentoml serve` of the archive's bento on host:port."""
    if not Path(archive).exists():
        raise PackagedModelError(f"{archive} does not exist: run `make repro` first")
    api_key()  # an unusable key fails here in one line, not in the worker with a traceback
    workers = worker_count()  # so does an unusable TABML_WORKERS
    tag = ensure_imported(archive)
    # `bentoml serve <tag>` runs from the bento's directory in the store: give the service
    # an absolute request log path so that `make drift` finds the logs in this repo.
    os.environ.setdefault(request_log.DIR_ENV, str(request_log.log_dir().resolve()))
    os.environ.setdefault(feedback.DIR_ENV, str(feedback.feedback_dir().resolve()))
    url = f"http://{host}:{port}"
    print(f"serving {tag} from {archive} on {url} with {workers} worker(s)", flush=True)
    command = [sys.executable, "-m", "tabml.serving.private_serve", tag]
    os.execv(sys.executable, [*command, "--host", host, "--port", str(port)])
