"""Start and stop a real `make serve` server process (`python -m tabml.cli serve`) for tests.

Shared by the service tests, the registry rollback test and the serving reliability tests.
Each server gets its own BentoML store and request log directory, a free 127.0.0.1 port,
and its own process group (so the whole tree can be stopped or killed at once).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def server_env(**extra: str) -> dict[str, str]:
    """This interpreter's tools first on PATH, no analytics, fixed hashing, plus `extra`."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    env.update(BENTOML_DO_NOT_TRACK="True", PYTHONHASHSEED="0", **extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running server: its process (group leader), URL, output file, request and feedback logs."""

    proc: subprocess.Popen
    url: str
    output: Path
    request_log: Path
    feedback_log: Path | None = None

    def wait_ready(self, timeout: float = 120) -> "Server":
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start:\n{self.output.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server and its workers (its own process group); then kill what is left
        of its process tree: a worker outside the group outlives a SIGKILLed server."""
        tree = process_tree(self.proc.pid)
        try:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=20)
        except ProcessLookupError:
            pass  # already exited
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # only orphans are left by now


def start_server(
    repo: Path,
    workdir: Path,
    bentoml_home: Path | None = None,
    port: int | None = None,
    args: tuple[str, ...] = (),
    **env,
) -> Server:
    """`python -m tabml.cli serve` on `repo`'s exported bento (plus `args`, e.g. --shadow);
    returns once /readyz answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, output, request_log = port or free_port(), workdir / "server.log", workdir / "requests"
    feedback_log = Path(env.pop("TABML_FEEDBACK_LOG_DIR", workdir / "feedback"))
    environ = server_env(
        BENTOML_HOME=str(bentoml_home or workdir / "bentoml_home"),
        PYTHONPATH=str(repo / "src"),
        TABML_REQUEST_LOG_DIR=str(request_log),
        TABML_FEEDBACK_LOG_DIR=str(feedback_log),
        **env,
    )
    archive = repo / "models/tabml_service.bento"
    cmd = [sys.executable, "-m", "tabml.cli", "serve", "--archive", str(archive)]
    cmd += ["--port", str(port), *args]
    with output.open("a") as out:
        proc = subprocess.Popen(
            cmd, cwd=repo, env=environ, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return Server(proc, f"http://127.0.0.1:{port}", output, request_log, feedback_log).wait_ready()


def metric_samples(client, name: str) -> dict[str, float]:
    """`{labels: value}` of one metric on /metrics."""
    found = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line.rpartition(" ")
            found[labels[len(name) :]] = float(value)
    return found


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (read from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree, grew = tree | children, bool(children)
    return sorted(tree)


def tree_rss_kib(root: int) -> int:
    """Resident memory (VmRSS, KiB) summed over a process and its descendants."""
    total = 0
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def listening_sockets(root: int) -> list[tuple[str, str]]:
    """Every listening socket held by `root` and its descendants: (kind, address).

    Read from /proc: TCP sockets in state LISTEN and bound UDP sockets as `ip:port`, Unix
    sockets that accept connections by their path (`@name` for the abstract ones).
    """
    inodes = set()
    for pid in process_tree(root):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    found = []
    for kind, listening in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        for line in Path(f"/proc/net/{kind}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == listening and int(fields[9]) in inodes:
                address, port = fields[1].split(":")
                found.append((kind, f"{_ip(address)}:{int(port, 16)}"))
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[3], 16) & 0x10000 and int(fields[6]) in inodes:  # __SO_ACCEPTCON
            found.append(("unix", fields[7] if len(fields) > 7 else "(unnamed)"))
    return sorted(found)


def _ip(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))  # per 32-bit word
    return socket.inet_ntop(socket.AF_INET6, words)
