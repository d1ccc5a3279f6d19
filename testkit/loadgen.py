"""Load generators for the serving benchmark: wrk (preferred) or a multi-process Python client.

Both send the same keep-alive POST over N connections for a fixed time and return requests/s,
error count and latency percentiles.
"""

import http.client
import multiprocessing
import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def pin(cpus: set[int] | None):
    """A `preexec_fn` / process start hook that pins the calling process to `cpus` (None: no-op)."""
    return None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))


def wrk_load(
    url: str, body: str, connections: int, seconds: float, cpus: set[int] | None = None
) -> dict:
    """One wrk run (1 thread: the second core is left to the server), pinned to `cpus`."""
    script = (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [[{body}]]\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
             "-s", handle.name, url],
            capture_output=True, text=True, check=True, preexec_fn=pin(cpus),
        ).stdout  # fmt: skip
    finally:
        Path(handle.name).unlink()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(g) for g in sockets.groups()) if sockets else 0
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "errors": errors,
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
    }


def _client(url: str, body: str, threads: int, seconds: float, queue, cpus) -> None:
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    stop = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        headers = {"Content-Type": "application/json"}
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                conn.request("POST", parts.path, body, headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn = http.client.HTTPConnection(parts.hostname, parts.port)
            latencies.append(time.perf_counter() - start)
            errors[0] += not ok

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, errors[0]))


def python_load(
    url: str, body: str, connections: int, seconds: float, cpus: set[int] | None = None
) -> dict:
    """Fallback: 2 processes x threads with keep-alive http.client connections."""
    processes = min(2, connections)
    queue = multiprocessing.Queue()
    split = [connections // processes + (i < connections % processes) for i in range(processes)]
    procs = [
        multiprocessing.Process(target=_client, args=(url, body, n, seconds, queue, cpus))
        for n in split
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for lat, _ in results for x in lat)
    return {
        "rps": len(latencies) / seconds,
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
    }
