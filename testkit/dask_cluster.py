"""A Dask cluster started the way an operator starts one: `dask scheduler` and `dask worker`
processes from the command line, on 127.0.0.1 and a free port, no dashboard.

Workers run without a nanny, so killing a worker's process (SIGKILL) really loses it.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testkit import VENV_BIN, tool_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dask(*args: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    out = log.open("wb")
    cmd = [str(VENV_BIN / "dask"), *args]
    env = {**tool_env(), **(env or {})}
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def dask_cluster(
    folder: Path, workers: int = 2, timeout: float = 60.0, worker_env: dict | None = None
) -> Iterator[tuple]:
    """(scheduler address, [worker processes]) of a running cluster, stopped at the end.
    `worker_env`: variables set for the workers besides the test's environment."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
              log=folder / "scheduler.log")
    ]  # fmt: skip
    try:
        worker_procs = [
            _dask("worker", address, "--nthreads", "1", "--no-dashboard", "--no-nanny",
                  "--host", "127.0.0.1", log=folder / f"worker-{i}.log", env=worker_env)
            for i in range(workers)
        ]  # fmt: skip
        procs += worker_procs
        _wait_for_workers(address, workers, timeout)
        yield address, worker_procs
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_workers(address: str, count: int, timeout: float) -> None:
    script = (
        "import sys; from distributed import Client; "
        f"c = Client({address!r}, timeout={timeout}); "
        f"c.wait_for_workers({count}, timeout={timeout}); c.close()"
    )
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run([sys.executable, "-c", script], env=tool_env(), capture_output=True)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Dask cluster at {address} did not start: {done.stderr[-2000:]}")
        time.sleep(0.5)
