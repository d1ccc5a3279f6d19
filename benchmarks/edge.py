"""Benchmark the edge bundle: one record scored in Node (onnxruntime-web, plain WASM) beside
the Python runtime (`PackagedModel.score`, native onnxruntime), same records, same run.

Needs `make edge` first (`make bench-edge` runs it). The target: single-record p50 <= 1 ms
in Node. Results go to docs/benchmarks.md (section `edge`).
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import pandas as pd

from benchmarks.support import ROOT, machine_description, write_section
from tabml import paths
from tabml.packaging.edge_bundle import gzipped_size
from tabml.scoring.model import load_packaged

TARGET_MS = 1.0
BUNDLE = ROOT / "dist" / "edge"


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def python_micros(model, records: list[dict], repetitions: int) -> list[float]:
    for record in records[:200]:
        model.score([record])
    found = []
    for i in range(repetitions):
        start = time.perf_counter_ns()
        model.score([records[i % len(records)]])
        found.append((time.perf_counter_ns() - start) / 1000)
    return found


def node_micros(records: list[dict], repetitions: int) -> list[float]:
    script = Path(__file__).with_name("edge_timing.mjs")
    done = subprocess.run(
        ["node", str(script), str(BUNDLE), str(repetitions)],
        input=json.dumps(records), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)["micros"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5000)
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    args = parser.parse_args()
    os.chdir(ROOT)
    load = os.getloadavg()
    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    test = pd.read_parquet(paths.TEST_DATA)
    records = json.loads(test[model.input_rules.features].to_json(orient="records"))
    records = [r for r in records if not model.inputs([r]).problems]
    node = node_micros(records, args.repetitions)
    python = python_micros(model, records, args.repetitions)
    files = sorted(p for p in BUNDLE.iterdir() if p.is_file())
    rows = []
    for name, micros in (("Node (onnxruntime-web WASM)", node), ("Python runtime", python)):
        p50 = statistics.median(micros)
        rows.append(
            f"| {name} | {p50:.0f} | {percentile(micros, 90):.0f} | {percentile(micros, 99):.0f} |"
        )
    p50_ms = statistics.median(node) / 1000
    lines = [
        "## Edge bundle",
        "",
        *machine_description(load),
        "",
        f"Command: `make bench-edge` (`python -m benchmarks.edge`; {args.repetitions:,} "
        f"single-record `score` calls each, after a 200-call warm-up, on the workspace's "
        f"{model.metadata.profile} model, cycling through its {len(records)} valid test rows).",
        "",
        "| scorer | p50 (µs) | p90 (µs) | p99 (µs) |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Node p50 {p50_ms:.3f} ms: target <= {TARGET_MS:g} ms "
        f"{'met' if p50_ms <= TARGET_MS else '**not met**'}. Bundle (dist/edge/, "
        f"{len(files)} files): {sum(f.stat().st_size for f in files) / 1e6:.1f} MB, "
        f"{gzipped_size(files) / 1e6:.2f} MB gzipped (target <= 4 MB).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section("edge", text)


if __name__ == "__main__":
    main()
