"""`bentoml serve` without an open control channel: what `make serve` runs.

`bentoml serve` supervises its workers with a circus arbiter, whose two ZeroMQ endpoints
(commands and events) BentoML binds to random TCP ports on 127.0.0.1, without
authentication: any local process could `list` the workers, read their `options` (the
worker environment, with `TABML_API_KEY` in clear text) or `add` a process that runs as the
server's user. BentoML 1.4 has no option for these endpoints (`create_standalone_arbiter`
hard-codes `tcp://127.0.0.1:<free port>`) and no way to serve several workers without the
arbiter. So, in this process, before BentoML's own CLI runs:

- the arbiter's endpoints become Unix sockets (`ipc://`) in a directory only this user can
  enter (mode 0700, made by `tempfile.mkdtemp`), removed when the server stops;
- `TABML_API_KEY` (and `TABML_FEEDBACK_KEY`) is moved into a file in that directory (mode
  0600) and the workers get `TABML_API_KEY_FILE` (`TABML_FEEDBACK_KEY_FILE`) instead: the
  environment the control channel returns names a path, not the key.

Everything else is `bentoml serve` itself (`bentoml_cli`), with the same arguments. What
remains: processes of the same user (and root) can still reach the sockets and read the key
file, as they can read `/proc/<pid>/environ`; serve under a dedicated user
(docs/serving.md).
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

from tabml.errors import TabmlError, one_line
from tabml.serving.api_key import FEEDBACK_KEY_ENV, FEEDBACK_KEY_FILE_ENV, KEY_ENV, KEY_FILE_ENV

SOCKET_PATH_MAX = 107  # sun_path: 108 bytes with the final NUL


def move_key_to_file(folder: Path, env: str = KEY_ENV, file_env: str = KEY_FILE_ENV) -> None:
    """A key variable (`TABML_API_KEY`) -> a 0600 file in `folder`, named by its file variable."""
    key = os.environ.pop(env, None)
    if not key:
        return
    file = folder / env.lower()
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    os.environ[file_env] = str(file)


def use_private_endpoints(folder: Path) -> None:
    """Make BentoML's arbiter bind its endpoints as Unix sockets in `folder`."""
    from bentoml._internal.utils import circus

    endpoints = {name: f"ipc://{folder / name}.sock" for name in ("control", "events")}
    if max(len(e) for e in endpoints.values()) - len("ipc://") > SOCKET_PATH_MAX:
        raise TabmlError(f"{folder}: too long a path for a Unix socket: set TMPDIR=/tmp")

    def private_arbiter(watchers, *, threaded: bool = False, **kwargs):
        arbiter_class = circus.ThreadedArbiter if threaded else circus.Arbiter
        return arbiter_class(
            watchers,
            endpoint=endpoints["control"],
            pubsub_endpoint=endpoints["events"],
            check_delay=kwargs.pop("check_delay", 10),  # BentoML's own default
            **kwargs,
        )

    # serve_http imports it from this module when it runs, so it gets this one.
    circus.create_standalone_arbiter = private_arbiter


def main(argv: list[str]) -> None:
    """`bentoml serve <argv>` with private control endpoints and no key in the environment."""
    folder = Path(tempfile.mkdtemp(prefix="tabml-serve-"))
    try:
        try:
            move_key_to_file(folder)
            move_key_to_file(folder, FEEDBACK_KEY_ENV, FEEDBACK_KEY_FILE_ENV)
            use_private_endpoints(folder)
        except TabmlError as err:
            sys.exit(one_line(err))
        from bentoml_cli.cli import cli

        cli.main(["serve", *argv], prog_name="bentoml")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
