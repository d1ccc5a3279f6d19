"""`make bench`: run every benchmark, one after another, into docs/benchmarks.md.

Each benchmark target writes its own section of docs/benchmarks.md; this script writes the
`run` section: the machine, the exact commands, and how long and how each one went. It runs
them one at a time (they would compete for the cores) and goes on after a failure, so one
broken benchmark does not hide the others' figures; it exits 1 if any failed.
"""

import argparse
import os
import subprocess
import sys
import time

from benchmarks.support import ROOT, machine_description, write_section

TARGETS = ("bench-pipeline", "bench-serve", "bench-batch")


def render(load: tuple[float, ...], results: list[tuple[str, float | None, int | None]]) -> str:
    """Machine, commands and per-benchmark outcome, as markdown."""
    lines = ["## This run", "", "Command: `make bench` (= `python -m benchmarks.suite`)", ""]
    lines += machine_description(load)
    lines += ["", "| benchmark | command | minutes | result |", "|---|---|---|---|"]
    for target, seconds, code in results:
        minutes = "" if seconds is None else f"{seconds / 60:.1f}"
        result = "not run yet" if code is None else ("ok" if code == 0 else f"FAILED ({code})")
        lines.append(f"| {target} | `make {target}` | {minutes} | {result} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help="make targets to run")
    args = parser.parse_args()
    load = os.getloadavg()
    results: list[tuple[str, float | None, int | None]] = [(t, None, None) for t in args.targets]
    write_section("run", render(load, results))
    for i, target in enumerate(args.targets):
        print(f"== make {target}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT).returncode
        results[i] = (target, time.perf_counter() - start, code)
        write_section("run", render(load, results))  # progress survives an interrupted run
    failed = [t for t, _, code in results if code]
    if failed:
        sys.exit(f"bench: failed: {', '.join(failed)} (see their output above)")


if __name__ == "__main__":
    main()
