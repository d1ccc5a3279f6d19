"""`python -m benchmarks.entity_lookup`: what looking entity features up costs `/predict`.

1. In process: `EntityStore.fill` on a one-record request, a table of 1,000,000 rows over
   100,000 keys, kept in a dict and (forced) in SQLite: median and p99 per call, the cost the
   service adds to a request. Target: <= 0.5 ms at the median.
2. Real servers (the `colonies` workspace of testkit/entity_workspace.py, packaged here): the
   model with lookups, as `make serve` runs it, against the no-op server
   (benchmarks/noop_service.py: same request model, gate and request log, no model and no
   lookup), loaded in turn with wrk in bursts. Target: >= 90% of the no-op's req/s.
Results go to docs/benchmarks.md (section `entity-lookup`).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.serving import cpu_split, free_port, stop_server
from benchmarks.support import ROOT, machine_description, write_section
from tabml.scoring.entities import EntityJoin
from tabml.serving import entity_lookup
from testkit.entity_workspace import RECORD, colony_workspace
from testkit.loadgen import pin, wrk_load
from testkit.workspace import run_stages

TARGET_MS, TARGET_SHARE = 0.5, 0.90


def fill_costs(folder: Path, repetitions: int) -> dict[str, list[float]]:
    """Seconds per `fill` of one record, per store kind (dict, sqlite)."""
    rng = np.random.default_rng(0)
    n, keys = 1_000_000, 100_000
    now = pd.Timestamp.now(tz="UTC")
    pd.DataFrame({
        "key": rng.integers(0, keys, n).astype(str),
        "at": now - pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
        "f0": rng.normal(size=n), "f1": rng.normal(size=n),
    }).to_parquet(folder / "table.parquet")  # fmt: skip
    entities = EntityJoin(row_time="t", tables=[{
        "name": "e", "source": {"path": "table.parquet"}, "key": "key", "timestamp": "at",
        "ttl": timedelta(days=7), "features": ["f0", "f1"],
    }])  # fmt: skip
    costs = {}
    for kind, limit in (("dict", entity_lookup.IN_MEMORY_KEYS), ("sqlite", 0)):
        entity_lookup.IN_MEMORY_KEYS = limit
        store = entity_lookup.EntityStore(entities, folder)
        asked = [str(k) for k in rng.integers(0, keys, repetitions)]
        spent = []
        for key in asked:
            record = {"key": key, "x": 1.0}
            start = time.perf_counter()
            problems = store.fill([record])
            spent.append(time.perf_counter() - start)
            assert not problems and "f0" in record
        costs[kind] = spent
    return costs


def _server(cmd: list[str], cwd: Path, home: Path, port: int, log: Path, cpus) -> subprocess.Popen:
    """A server started in `cwd`, its BentoML store in `home`; ready when /readyz answers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TABML_ACCESS_LOG": "0",
           "BENTOML_HOME": str(home / "bentoml_home"),
           "TABML_REQUEST_LOG_DIR": str(log.parent / f"requests-{port}"),
           "TABML_FEEDBACK_LOG_DIR": str(log.parent / f"feedback-{port}")}  # fmt: skip
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port)], cwd=cwd, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=pin(cpus),
    )  # fmt: skip
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"not ready: {log}")


def server_rounds(folder: Path, rounds: int, bursts: int) -> dict[str, list[dict]]:
    workspace = colony_workspace(folder / "ws")
    run_stages(workspace)
    serve = [sys.executable, "-m", "tabml.cli", "serve", "--archive"]
    noop = ["bentoml", "serve", "noop_service:NoopService", "--working-dir"]
    variants = {  # the colonies model first: it imports its bento into the workspace's store
        "model+lookup": (workspace, workspace, [*serve, "models/tabml_service.bento"]),
        "noop": (workspace, workspace, [*noop, str(ROOT / "benchmarks")]),
        # the checkout's packaged penguins model, same record, no entity table: its own store
        "model": (ROOT, folder / "penguins", [*serve, "models/tabml_service.bento"]),
    }
    (folder / "penguins").mkdir()
    server_cpus, load_cpus = cpu_split(True)
    body = json.dumps({"records": [RECORD]})
    found = {name: [] for name in variants}
    for _ in range(rounds):
        procs, urls = {}, {}
        for name, (cwd, home, cmd) in variants.items():
            port = free_port()
            log = folder / f"{name}.log"
            procs[name] = _server(cmd, cwd, home, port, log, server_cpus)
            urls[name] = f"http://127.0.0.1:{port}/predict"
        try:
            for burst in range(bursts):
                order = list(variants) if burst % 2 == 0 else list(variants)[::-1]
                for name in order:
                    found[name].append(wrk_load(urls[name], body, 16, 2, load_cpus))
        finally:
            for proc in procs.values():
                stop_server(proc)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bursts", type=int, default=4)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        costs = fill_costs(Path(tmp), args.repetitions)
        runs = server_rounds(Path(tmp), args.rounds, args.bursts)
    us = {k: [v * 1e6 for v in spent] for k, spent in costs.items()}
    p50 = {k: statistics.median(v) for k, v in us.items()}
    p99 = {k: float(np.percentile(v, 99)) for k, v in us.items()}
    rps = {k: statistics.median(r["rps"] for r in v) for k, v in runs.items()}
    errors = {k: sum(r["errors"] for r in v) for k, v in runs.items()}

    def shares(name: str) -> list[float]:
        return [m["rps"] / n["rps"] for m, n in zip(runs[name], runs["noop"], strict=True)]

    per_burst, without = shares("model+lookup"), shares("model")
    share = statistics.median(per_burst)
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    lines = [
        "## Entity lookup (online)", "", *machine_description(load), "",
        f"Command: `make bench-entity-lookup` (`python -m benchmarks.entity_lookup`; "
        f"{args.repetitions:,} one-record `EntityStore.fill` calls per store over 1,000,000 "
        f"rows of 100,000 keys; then {args.rounds} rounds of fresh servers, {args.bursts} wrk "
        "bursts of 2 s at 16 connections each, order alternating; server on CPU 0, wrk on 1).",
        "",
        "| store | fill, median (µs) | p99 (µs) |", "|---|---|---|",
        *(f"| {k} | {p50[k]:.1f} | {p99[k]:.1f} |" for k in us),
        "",
        "| server | req/s, median burst | errors |", "|---|---|---|",
        *(f"| {k} | {rps[k]:.0f} | {errors[k]} |" for k in runs),
        "",
        f"- lookup added at the median: {p50['dict'] / 1000:.3f} ms (dict), "
        f"{p50['sqlite'] / 1000:.3f} ms (SQLite); target <= {TARGET_MS} ms: "
        f"{met(max(p50.values()) / 1000 <= TARGET_MS)}",
        f"- `model+lookup` over `noop`, median of the bursts: {share:.1%} (per burst: "
        f"{', '.join(f'{x:.0%}' for x in per_burst)}); target >= 90%: {met(share >= TARGET_SHARE)}",
        f"- `model` (penguins, no entity table) over `noop` in the same bursts: "
        f"{statistics.median(without):.1%}: the share the model itself costs at this load",
        "",
        "`model+lookup` is the colonies model (penguins + an entity table keyed by island) as "
        "`make serve` runs it, request log on; `noop` is benchmarks/noop_service.py on the same "
        "model's request model: no model, no lookup; `model` the checkout's penguins bento.",
    ]  # fmt: skip
    write_section("entity-lookup", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
