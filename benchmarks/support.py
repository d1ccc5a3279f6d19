"""Shared helpers for the benchmark scripts: repo copies, measured runs, the report file.

Benchmarks never run in the working repository: they copy its git-tracked files into a
temporary directory (as a fresh clone would see them) so that the user's outputs, DVC cache
and experiments stay untouched.
"""

import contextlib
import os
import platform
import re
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from testkit import ROOT
from testkit import tool_env as bench_env

REPORT = ROOT / "docs" / "benchmarks.md"


@dataclass
class Run:
    """One measured command: wall seconds, peak memory of its whole process tree, output."""

    seconds: float
    cpu_seconds: float  # user + system time of the process and all its descendants
    peak_rss: int  # bytes, the largest sum of RSS over the process and all its descendants
    returncode: int
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)

    def check(self, what: str) -> "Run":
        if self.returncode != 0:
            tail = "\n".join(line for _, line in self.lines[-30:])
            raise RuntimeError(f"{what} failed with exit code {self.returncode}:\n{tail}")
        return self


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # exited between listing and reading
            total += proc.memory_info().rss
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(cmd: list[str] | str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `cmd`, timestamping each output line and sampling the tree's memory every 50 ms."""
    # Children's CPU time is only counted once they are waited for; runs are sequential.
    cpu_before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env or bench_env(),
        shell=isinstance(cmd, str),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(parent))
            except psutil.Error:
                return
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = [(time.perf_counter() - start, line.rstrip("\n")) for line in proc.stdout]
    returncode = proc.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return Run(seconds, _children_cpu() - cpu_before, peak, returncode, lines)


def machine_description(load_at_start: tuple[float, ...]) -> list[str]:
    """CPU, cores, memory, OS, Python and load: what the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1) if match else cpu
    start, end = (", ".join(f"{x:.2f}" for x in load) for load in (load_at_start, os.getloadavg()))
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores",
        f"- memory: {psutil.virtual_memory().total / 2**30:.1f} GiB",
        f"- OS: {platform.platform()}; Python {platform.python_version()}",
        f"- load average (1, 5, 15 min): {start} at the start, {end} at the end "
        "(other work shares this machine; CPU seconds are less sensitive to it than wall seconds)",
        f"- measured: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]


def write_section(name: str, markdown: str, report: Path = REPORT) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, keeping the other sections.

    Each benchmark owns the text between `<!-- bench:NAME:start -->` and `<!-- ...:end -->`,
    so `make bench` can run them one after another into the same file.
    """
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}\n"
    text = report.read_text() if report.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text)
