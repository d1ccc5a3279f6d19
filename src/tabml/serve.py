"""`make serve`: serve the exported bento (models/tabml_service.bento), the artefact DVC tracks.

Imports the archive into the BentoML store when that version is not there yet (after
`dvc checkout` of another model, a fresh clone, ...), then execs `bentoml serve <tag>`.
Scored inputs are logged to `$TABML_REQUEST_LOG_DIR`, by default this repo's logs/requests/.
"""

import argparse
import os
import shutil

from tabml import paths, request_log
from tabml.bento import ensure_imported


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tabml.serve", description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--archive", default=str(paths.BENTO_ARCHIVE))
    args = parser.parse_args(argv)
    if not os.path.exists(args.archive):
        parser.exit(1, f"error: {args.archive} does not exist: run `make repro` first\n")
    tag = ensure_imported(args.archive)
    # `bentoml serve <tag>` runs from the bento's directory in the store: give the service
    # an absolute request log path so that `make drift` finds the logs in this repo.
    os.environ.setdefault(request_log.DIR_ENV, str(request_log.log_dir().resolve()))
    bentoml = shutil.which("bentoml") or "bentoml"
    print(f"serving {tag} from {args.archive} on http://{args.host}:{args.port}", flush=True)
    os.execv(bentoml, [bentoml, "serve", tag, "--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    main()
