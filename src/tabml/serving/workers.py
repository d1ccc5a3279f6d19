"""How many BentoML worker processes serve the API: `TABML_WORKERS` (default 1).

Each worker is a process with its own ONNX session and micro-batcher; requests are spread
over them by the server's shared socket. `TABML_WORKERS=cpu_count` starts one per CPU.
Prometheus metrics (BentoML's and ours) are summed across workers on /metrics, and every
worker writes its own request log files into the same directory.
"""

import os

from tabml.errors import TabmlError

WORKERS_ENV = "TABML_WORKERS"


class WorkersError(TabmlError):
    """`TABML_WORKERS` is not a worker count."""


def worker_count(env: dict[str, str] | None = None) -> int | str:
    """The worker count to configure: a whole number >= 1, or BentoML's `"cpu_count"`."""
    raw = (os.environ if env is None else env).get(WORKERS_ENV, "").strip()
    if not raw:
        return 1
    if raw == "cpu_count":
        return raw
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    raise WorkersError(f"{WORKERS_ENV}={raw!r}: expected a whole number >= 1 or cpu_count")
