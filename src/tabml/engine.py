"""Where parallel work runs: a Dask cluster or this process, chosen by environment, never by params.

The environment (not `params.yaml`) decides, so moving a pipeline from a laptop to a cluster
invalidates no DVC cache and changes no output byte:

- `DASK_SCHEDULER_ADDRESS=tcp://host:8786`: that cluster's scheduler;
- `TABML_DASK_WORKERS=N`: a `LocalCluster` of N single-threaded worker processes on 127.0.0.1,
  no dashboard, closed when the work is done;
- neither: in process, as without Dask.

`open_engine()` prints the engine it chose (on stderr) and checks that the workers run the
client's package versions, so a mismatch is one clear error instead of an unpickling failure
deep inside a task.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tabml.errors import TabmlError

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
WORKERS_ENV = "TABML_DASK_WORKERS"
# Packages whose versions must agree between client and workers besides those distributed
# reports anyway (dask, distributed, cloudpickle, msgpack, numpy, pandas, ...): models, frames
# and arrays are pickled across the wire.
CHECKED_PACKAGES = ("scikit-learn", "onnxruntime", "pyarrow")  # distribution names
CONNECT_TIMEOUT_S = 10


class EngineError(TabmlError):
    """The configured Dask engine cannot be used (bad variable, unreachable, mismatched)."""


@dataclass(frozen=True)
class Engine:
    """The chosen engine: `client` is a `distributed.Client`, or None for in process."""

    name: str
    client: Any = None
    workers: int = 1

    @property
    def distributed(self) -> bool:
        return self.client is not None


def configured(env: dict[str, str] | None = None) -> str:
    """`"scheduler"`, `"local"` or `"in-process"`: what the environment asks for."""
    env = os.environ if env is None else env
    if env.get(SCHEDULER_ENV, "").strip():
        return "scheduler"
    if env.get(WORKERS_ENV, "").strip():
        return "local"
    return "in-process"


def local_workers(env: dict[str, str] | None = None) -> int:
    """The worker count `TABML_DASK_WORKERS` asks for (a whole number >= 1)."""
    env = os.environ if env is None else env
    raw = env.get(WORKERS_ENV, "").strip()
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise EngineError(f"{WORKERS_ENV}={raw!r}: expected a whole number of workers >= 1")
    return count


def _check_versions(client: Any) -> None:
    """Refuse workers whose package versions differ from the client's.

    distributed's own `get_versions(check=True)` only warns on a mismatch. Every package it
    reports (python, dask, distributed, cloudpickle, msgpack, numpy, pandas, ...) and ours
    must match: a worker with another version unpickles models and frames differently.
    """
    versions = client.get_versions(packages=list(CHECKED_PACKAGES))
    mine = versions["client"]["packages"]
    for worker, info in sorted(versions.get("workers", {}).items()):
        theirs = (info or {}).get("packages", {})
        for package, version in sorted(mine.items()):
            if theirs.get(package) != version:
                raise EngineError(
                    f"Dask worker {worker} runs {package} {theirs.get(package)}, the client "
                    f"{version}: install requirements.lock on every worker (make setup) and "
                    "restart them"
                )
    _check_blas_kernels(client)


def blas_kernels() -> str:
    """The OpenBLAS kernels this process computes with, e.g. `Haswell` (see `tabml/__init__`)."""
    import numpy  # noqa: F401  (loads numpy's OpenBLAS)
    import scipy.linalg  # noqa: F401  (and scipy's)
    from threadpoolctl import threadpool_info

    found = {
        i.get("architecture") or "?" for i in threadpool_info() if i["internal_api"] == "openblas"
    }
    return ",".join(sorted(found)) or "none"


def _check_blas_kernels(client: Any) -> None:
    """Refuse workers whose OpenBLAS kernels differ from the client's: another kernel rounds
    differently, so a fit on a worker would not give the model a fit in process gives."""
    mine = blas_kernels()
    for worker, theirs in sorted(client.run(blas_kernels).items()):
        if theirs != mine:
            raise EngineError(
                f"Dask worker {worker} computes with OpenBLAS kernels {theirs}, the client with "
                f"{mine}: start the workers with OPENBLAS_CORETYPE={mine.split(',')[0]} in their "
                "environment"
            )


@contextmanager
def open_engine(env: dict[str, str] | None = None, quiet: bool = False) -> Iterator[Engine]:
    """Yield the engine the environment configures, closing whatever this call started."""
    kind = configured(env)
    if kind == "in-process":
        if not quiet:
            print("engine: in process", file=sys.stderr)
        yield Engine("in process")
        return
    from distributed import Client, LocalCluster

    env = os.environ if env is None else env
    if kind == "scheduler":
        address = env[SCHEDULER_ENV].strip()
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except OSError as err:
            raise EngineError(
                f"{SCHEDULER_ENV}={address}: cannot reach the Dask scheduler ({err}); "
                "start it with `dask scheduler` or unset the variable to run in process"
            ) from None
        with client:
            _check_versions(client)
            workers = len(client.scheduler_info(n_workers=-1)["workers"])
            if not quiet:
                print(f"engine: Dask scheduler {address} ({workers} workers)", file=sys.stderr)
            yield Engine(f"Dask scheduler {address}", client, max(workers, 1))
        return
    count = local_workers(env)
    with (
        LocalCluster(
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        _check_versions(client)
        if not quiet:
            print(f"engine: Dask LocalCluster of {count} workers on 127.0.0.1", file=sys.stderr)
        yield Engine(f"Dask LocalCluster({count})", client, count)
