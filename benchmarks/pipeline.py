"""Pipeline benchmark: DVC's overhead, no-op `dvc repro`, fresh-clone setup, flights at scale.

Run `make bench-pipeline` (or `python -m benchmarks.pipeline --help`). Everything runs in
temporary copies of the repository; results replace the `pipeline` section of
docs/benchmarks.md. Every figure is a ratio against a baseline measured in the same run.
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks import scaling
from benchmarks.support import (
    ROOT,
    bench_env,
    machine_description,
    measure,
    median_run,
    repo_copy,
    write_section,
)

STAGES = ["ingest", "validate", "split", "train", "evaluate"]
STAGE_CMDS = " && ".join(f"PYTHONPATH=src python -m tabml.stages.{s}" for s in STAGES)
# All five stage functions in one interpreter: the floor that DVC's cost is measured against.
IN_PROCESS = (
    "import json, time; t0 = time.perf_counter(); import importlib; "
    f"mods = [importlib.import_module('tabml.stages.' + s) for s in {STAGES!r}]; "
    "t1 = time.perf_counter(); [m.main() for m in mods]; "
    "print(json.dumps({'imports': t1 - t0, 'stages': time.perf_counter() - t1}))"
)


def bench_overhead(work: Path, repeat: int) -> dict:
    """Full penguins pipeline three ways, interleaved so machine noise hits all alike."""
    repo = repo_copy(work / "overhead")
    env = _src_env()
    measure(["dvc", "repro"], repo).check("warm-up dvc repro")
    dvc, shell, inproc, imports = [], [], [], []
    for _ in range(repeat):
        dvc.append(measure(["dvc", "repro", "--force"], repo).check("dvc repro -f").seconds)
        shell.append(measure(STAGE_CMDS, repo).check("stage commands").seconds)
        run = measure(["python", "-c", IN_PROCESS], repo, env).check("in-process")
        inproc.append(run.seconds)
        imports.append(json.loads(run.lines[-1][1])["imports"])
    # What a fresh interpreter pays before a stage does any work: the per-process cost.
    stage_imports = {
        s: median_run(["python", "-c", f"import tabml.stages.{s}"], repo, repeat, s, env)
        for s in STAGES
    }
    noop = median_run(["dvc", "repro"], repo, 2 * repeat + 1, "no-op dvc repro")
    status = median_run(["dvc", "status"], repo, 2 * repeat + 1, "dvc status")
    return {
        "dvc_repro_force_s": statistics.median(dvc),
        "stage_commands_s": statistics.median(shell),
        "in_process_s": statistics.median(inproc),
        "in_process_imports_s": statistics.median(imports),
        "stage_import_s": stage_imports,
        "noop_repro_s": noop,
        "dvc_status_s": status,
        "repeat": repeat,
    }


def _src_env() -> dict[str, str]:
    return {**bench_env(), "PYTHONPATH": "src"}


def bench_fresh_clone(work: Path) -> dict:
    """`git clone` of the committed HEAD, then `make repro`; checks dvc.lock is unchanged."""
    clone = work / "clone"
    measure(["git", "clone", "--quiet", str(ROOT), str(clone)], work).check("git clone")
    setup = measure(["make", "setup"], clone).check("make setup")
    repro = measure(["make", "repro"], clone).check("make repro")
    dirty = measure(["git", "status", "--porcelain"], clone).lines
    return {
        "setup_s": setup.seconds,
        "repro_s": repro.seconds,
        "total_s": setup.seconds + repro.seconds,
        "git_status_clean": not dirty,
    }


def render(overhead: dict, clone: dict | None, flights: list[dict], command: str) -> str:
    o = overhead
    total = o["dvc_repro_force_s"]
    lines = [
        "## Pipeline",
        "",
        *machine_description(),
        "",
        f"Command: `{command}` (median of {o['repeat']} interleaved runs where repeated).",
        "",
        "### DVC's overhead on the penguins pipeline",
        "",
        "| way of running the five stages | wall s | share of `dvc repro` |",
        "|---|---|---|",
        f"| `dvc repro --force` | {total:.2f} | 100% |",
        f"| same stage commands, plain shell, no DVC | {o['stage_commands_s']:.2f} "
        f"| {o['stage_commands_s'] / total:.0%} |",
        f"| stage functions in one Python process | {o['in_process_s']:.2f} "
        f"| {o['in_process_s'] / total:.0%} |",
        f"| of which importing the stage modules once | {o['in_process_imports_s']:.2f} "
        f"| {o['in_process_imports_s'] / total:.0%} |",
        "",
        "",
        "Starting a stage's interpreter and importing its modules, per stage (s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in o["stage_import_s"].items())
        + f"; sum {sum(o['stage_import_s'].values()):.2f} s.",
        "",
        f"- DVC's own cost (`dvc repro` minus the plain commands): "
        f"**{(total - o['stage_commands_s']) / total:.0%}** of the wall time (target <= 20%).",
        f"- Everything beyond one in-process run (DVC + one interpreter per stage): "
        f"**{(total - o['in_process_s']) / total:.0%}** of the wall time.",
        f"- No-op `dvc repro`: **{o['noop_repro_s']:.2f} s** (target <= 1.5 s); "
        f"`dvc status`: {o['dvc_status_s']:.2f} s.",
    ]
    if clone:
        lines += [
            "",
            "### Fresh clone",
            "",
            f"`git clone` + `make repro`: **{clone['total_s']:.1f} s** "
            f"(`make setup` {clone['setup_s']:.1f} s with a warm uv cache, then the pipeline "
            f"{clone['repro_s']:.1f} s = {clone['repro_s'] / o['dvc_repro_force_s']:.2f}x the "
            f"`dvc repro --force` above). `git status` clean afterwards (dvc.lock reproduced "
            f"byte for byte): {'yes' if clone['git_status_clean'] else '**NO**'}.",
        ]
    if flights:
        lines += ["", *scaling.render(flights)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--factors", default="1,3,10", help="flights row multiples, or ''")
    parser.add_argument("--no-clone", action="store_true", help="skip the fresh-clone timing")
    parser.add_argument("--no-write", action="store_true", help="print, don't edit the docs")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.pipeline " + " ".join(argv or sys.argv[1:])
    factors = [int(f) for f in args.factors.split(",") if f.strip()]
    with tempfile.TemporaryDirectory(prefix="tabml-bench-") as tmp:
        work = Path(tmp)
        overhead = bench_overhead(work, args.repeat)
        print(json.dumps({"overhead": overhead}), flush=True)
        clone = None if args.no_clone else bench_fresh_clone(work)
        print(json.dumps({"fresh_clone": clone}), flush=True)
        flights = scaling.bench_flights(work, factors)
    markdown = render(overhead, clone, flights, command.strip())
    print(markdown)
    if not args.no_write:
        write_section("pipeline", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
