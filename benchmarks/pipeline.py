"""Pipeline benchmark: DVC's overhead, no-op `dvc repro`, fresh-clone setup, flights at scale.

Run `make bench-pipeline` (or `python -m benchmarks.pipeline --help`). Everything runs in
temporary copies of the repository; results replace the `pipeline` section of
docs/benchmarks.md. Every figure is a ratio against a baseline measured in the same run.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks import scaling
from benchmarks.support import (
    ROOT,
    Run,
    bench_env,
    machine_description,
    measure,
    repo_copy,
    write_section,
)

# Every stage of dvc.yaml, in order: `dvc repro --force` runs all six, so every baseline does too.
STAGES = ["ingest", "features", "validate", "split", "train", "evaluate", "package"]
# All six stage functions in one interpreter: the floor below any one-process-per-stage design.
# The collector is handled as a stage process handles it (tabml.stages): off during the
# imports, imported objects frozen, on for the work, frozen again before exit.
IN_PROCESS = (
    "import gc, json, time; gc.disable(); t0 = time.perf_counter(); import importlib; "
    f"mods = [importlib.import_module('tabml.stages.' + s) for s in {STAGES!r}]; "
    "gc.freeze(); gc.enable(); t1 = time.perf_counter(); [m.main() for m in mods]; "
    "print(json.dumps({'imports': t1 - t0, 'stages': time.perf_counter() - t1})); gc.freeze()"
)
# No-op timings; `noop_gc_at_exit` turns tabml's exit hook for `dvc` off (tabml/dvc_exit.py).
NOOP_CMDS = {
    "noop": (["dvc", "repro"], {}),
    "noop_gc_at_exit": (["dvc", "repro"], {"TABML_DVC_FAST_EXIT": "0"}),
    "status": (["dvc", "status"], {}),
    "dvc_version": (["dvc", "version"], {}),
}


def stage_cmd(stage: str) -> str:
    """The stage's command exactly as dvc.yaml runs it."""
    return f"PYTHONPATH=src python -m tabml.stages.{stage}"


def _median(runs: list[Run]) -> dict[str, float]:
    return {
        "wall_s": statistics.median(r.seconds for r in runs),
        "cpu_s": statistics.median(r.cpu_seconds for r in runs),
    }


def _shell_round(repo: Path) -> tuple[Run, dict[str, float]]:
    """The six stage commands one after another, no DVC: total and per-stage wall seconds."""
    runs = {s: measure(stage_cmd(s), repo).check(f"shell {s}") for s in STAGES}
    total = Run(
        seconds=sum(r.seconds for r in runs.values()),
        cpu_seconds=sum(r.cpu_seconds for r in runs.values()),
        peak_rss=max(r.peak_rss for r in runs.values()),
        returncode=0,
    )
    return total, {s: r.seconds for s, r in runs.items()}


def bench_overhead(work: Path, repeat: int, noop_repeat: int) -> dict:
    """The full penguins pipeline three ways, interleaved (order rotated each round)."""
    repo = repo_copy(work / "overhead")
    measure(["dvc", "repro"], repo).check("warm-up dvc repro")
    ways = ["dvc", "shell", "in_process"]
    runs: dict[str, list[Run]] = {way: [] for way in ways}
    dvc_stages, shell_stages, imports = [], [], []
    for i in range(repeat):
        for way in ways[i % 3 :] + ways[: i % 3]:
            if way == "dvc":
                run = measure(["dvc", "repro", "--force"], repo).check(way)
                first = next(t for t, line in run.lines if line.startswith("Running stage"))
                dvc_stages.append(
                    {"start-up": first, **scaling.stage_seconds(run.lines, run.seconds)}
                )
            elif way == "shell":
                run, per_stage = _shell_round(repo)
                shell_stages.append(per_stage)
            else:
                run = measure(["python", "-c", IN_PROCESS], repo, _src_env()).check(way)
                imports.append(json.loads(run.lines[-1][1])["imports"])
            runs[way].append(run)
    noop: dict[str, list[Run]] = {k: [] for k in NOOP_CMDS}
    for _ in range(noop_repeat):
        for key, (cmd, extra_env) in NOOP_CMDS.items():
            noop[key].append(measure(cmd, repo, {**bench_env(), **extra_env}).check(key))
    return {
        **{way: _median(rs) for way, rs in runs.items()},
        **{key: _median(rs) for key, rs in noop.items()},
        "in_process_imports_s": statistics.median(imports),
        "dvc_stage_s": {k: statistics.median(d[k] for d in dvc_stages) for k in dvc_stages[0]},
        "shell_stage_s": {s: statistics.median(d[s] for d in shell_stages) for s in STAGES},
        # DVC's own share per round, dvc and shell measured back to back: load drifts cancel.
        "own_share": {
            k: statistics.median(
                (getattr(d, k) - getattr(sh, k)) / getattr(d, k)
                for d, sh in zip(runs["dvc"], runs["shell"], strict=True)
            )
            for k in ("seconds", "cpu_seconds")
        },
        "repeat": repeat,
        "noop_repeat": noop_repeat,
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


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}"


def render(overhead: dict, clone: dict | None, flights: list[dict], load: tuple) -> str:
    o = overhead
    dvc, shell, inproc = o["dvc"], o["shell"], o["in_process"]
    lines = [
        "## Pipeline",
        "",
        *machine_description(load),
        "",
        "Command: `make bench-pipeline` (`python -m benchmarks.pipeline`); medians of "
        f"{o['repeat']} interleaved rounds ({o['noop_repeat']} for the no-op timings). "
        "`python -m benchmarks.pipeline --overhead-only` prints the penguins figures alone.",
        "",
        "### DVC's overhead on the penguins pipeline",
        "",
        f"| way of running the {len(STAGES)} stages | wall s | wall share | CPU s | CPU share |",
        "|---|---|---|---|---|",
    ]
    for label, m in [
        ("`dvc repro --force`", dvc),
        ("the same stage commands, plain shell, no DVC", shell),
        ("the stage functions in one Python process", inproc),
    ]:
        lines.append(
            f"| {label} | {m['wall_s']:.2f} | {_share(m['wall_s'], dvc['wall_s'])} "
            f"| {m['cpu_s']:.2f} | {_share(m['cpu_s'], dvc['cpu_s'])} |"
        )
    dvc_own = [o["own_share"][k] for k in ("seconds", "cpu_seconds")]
    of_medians = (dvc["wall_s"] - shell["wall_s"]) / dvc["wall_s"]
    beyond = [(dvc[k] - inproc[k]) / dvc[k] for k in ("wall_s", "cpu_s")]
    per_stage = (dvc["wall_s"] - shell["wall_s"]) / len(STAGES)
    lines += [
        "",
        f"- **DVC's own cost** (`dvc repro` minus the same commands without DVC): "
        f"**{dvc_own[0]:.0%}** of the wall time, {dvc_own[1]:.0%} of the CPU time "
        f"(target <= 20%; median of the rounds' shares, each round's `dvc repro` and shell run "
        f"back to back; from the medians in the table: {of_medians:.0%}); "
        f"{per_stage:.2f} s per stage.",
        f"- Everything beyond one in-process run (DVC plus a fresh interpreter per stage): "
        f"{beyond[0]:.0%} of the wall time, {beyond[1]:.0%} of the CPU time. One process "
        f"imports pandas, pandera, scikit-learn and BentoML once ({o['in_process_imports_s']:.2f} "
        "s); each stage process imports what it needs.",
        f"- **No-op `dvc repro`: {o['noop']['wall_s']:.2f} s** wall, {o['noop']['cpu_s']:.2f} s "
        f"CPU (target <= 1.5 s); {o['noop_gc_at_exit']['wall_s']:.2f} s with the full garbage "
        "collection at exit that `TABML_DVC_FAST_EXIT=0` restores; "
        f"`dvc status` {o['status']['wall_s']:.2f} s; "
        f"`dvc version` (DVC's start-up alone) {o['dvc_version']['wall_s']:.2f} s.",
        "",
        "Per stage, wall seconds (medians): a stage's process alone from a plain shell, and the "
        "same stage inside `dvc repro --force`, from one `Running stage` line to the next (the "
        "stage plus DVC's hashing, cache commit, run-cache entry and `dvc.lock` update after it).",
        "",
        "| stage | plain shell | in `dvc repro` | DVC's part |",
        "|---|---|---|---|",
    ]
    dvc_stages, shell_stages = o["dvc_stage_s"], o["shell_stage_s"]
    lines.append(f"| DVC start-up, before the first stage | | {dvc_stages['start-up']:.2f} | |")
    for stage in STAGES:
        alone, inside = shell_stages[stage], dvc_stages[stage]
        lines.append(f"| {stage} | {alone:.2f} | {inside:.2f} | {inside - alone:+.2f} |")
    if clone:
        lines += [
            "",
            "### Fresh clone",
            "",
            f"`git clone` + `make repro`: **{clone['total_s']:.1f} s** "
            f"(`make setup` {clone['setup_s']:.1f} s with a warm uv cache, then the pipeline "
            f"{clone['repro_s']:.1f} s = {clone['repro_s'] / dvc['wall_s']:.2f}x the "
            f"`dvc repro --force` above). `git status` clean afterwards (dvc.lock reproduced "
            f"byte for byte): {'yes' if clone['git_status_clean'] else '**NO**'}.",
        ]
    if flights:
        lines += ["", *scaling.render(flights)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the three ways (median)")
    parser.add_argument("--noop-repeat", type=int, default=9, help="runs per no-op timing (median)")
    parser.add_argument(
        "--overhead-only",
        action="store_true",
        help="only the penguins overhead and no-op timings (~3 min); prints, leaves the docs alone",
    )
    parser.add_argument("--factors", default="1,3,10", help="flights row multiples, or ''")
    parser.add_argument("--no-clone", action="store_true", help="skip the fresh-clone timing")
    parser.add_argument("--no-write", action="store_true", help="print, don't edit the docs")
    args = parser.parse_args(argv)
    if args.overhead_only:
        args.factors, args.no_clone, args.no_write = "", True, True
    load = os.getloadavg()
    factors = [int(f) for f in args.factors.split(",") if f.strip()]
    with tempfile.TemporaryDirectory(prefix="tabml-bench-") as tmp:
        work = Path(tmp)
        overhead = bench_overhead(work, args.repeat, args.noop_repeat)
        print(json.dumps({"overhead": overhead}), flush=True)
        clone = None if args.no_clone else bench_fresh_clone(work)
        print(json.dumps({"fresh_clone": clone}), flush=True)
        flights = scaling.bench_flights(work, factors)
    markdown = render(overhead, clone, flights, load)
    print(markdown)
    if not args.no_write:
        write_section("pipeline", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
