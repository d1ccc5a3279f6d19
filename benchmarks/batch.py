"""`make bench-batch`: batch scoring of 1,000,000 rows end to end vs raw ONNX prediction.

One run, on this machine and in the same minutes:
- raw: `OnnxClassifier.predict` on feeds prepared in advance from the same rows (in process,
  one call per 100k-row chunk, as batch scoring calls it);
- end to end: `tabml.batch.score_file` (read, check, score, write to a fresh SQLite file) in
  a child process, for the CSV and for the parquet copy of the rows. The child reports its
  scoring time (interpreter start and imports excluded) and its peak RSS
  (`resource.getrusage(RUSAGE_SELF).ru_maxrss`).
Rounds are interleaved; medians count. Results go to docs/benchmarks.md (section `batch`).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.support import ROOT, bench_env, machine_description, write_section

ROWS, SEED, CHUNK = 1_000_000, 0, 100_000


def make_input(folder: Path, rows: int) -> tuple[Path, Path]:
    """Penguin rows resampled with a fixed seed (the target column stays, as in real files)."""
    raw = pd.read_csv(ROOT / "data/raw/dataset.csv")
    frame = raw.sample(n=rows, replace=True, random_state=SEED).reset_index(drop=True)
    csv, parquet = folder / "rows.csv", folder / "rows.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return csv, parquet


def raw_seconds(csv: Path) -> float:
    """Seconds of OnnxClassifier.predict alone over all rows, feeds prepared beforehand."""
    from tabml import paths
    from tabml.onnx_model import OnnxClassifier

    model = OnnxClassifier.from_file(ROOT / paths.ONNX_MODEL)
    feeds = [model.feeds_from_frame(c) for c in pd.read_csv(csv, chunksize=CHUNK)]
    start = time.perf_counter()
    for feed in feeds:
        model.predict(feed)
    return time.perf_counter() - start


def child(path: Path, db: Path) -> None:
    """Score `path` into a fresh SQLite file; print seconds and peak RSS as JSON."""
    import resource

    from tabml import paths
    from tabml.batch import load_packaged, score_file

    os.chdir(ROOT)
    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    result = score_file(path, f"sqlite:///{db}", model, chunk_rows=CHUNK)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": result.seconds, "rows": result.rows, "peak_rss": peak}))


def end_to_end(path: Path, folder: Path, round_: int) -> dict:
    db = folder / f"{path.suffix[1:]}-{round_}.db"
    cmd = [sys.executable, "-m", "benchmarks.batch", "--child", str(path), str(db)]
    out = subprocess.run(cmd, cwd=ROOT, env=bench_env(), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"batch scoring failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for leftover in folder.glob(f"{db.name}*"):
        leftover.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv, parquet = make_input(folder, args.rows)
        raw, runs = [], {"CSV": [], "parquet": []}
        for round_ in range(args.rounds):
            raw.append(raw_seconds(csv))
            runs["CSV"].append(end_to_end(csv, folder, round_))
            runs["parquet"].append(end_to_end(parquet, folder, round_))
            print(
                f"round {round_ + 1}: raw {raw[-1]:.2f} s, "
                + ", ".join(f"{k} {v[-1]['seconds']:.2f} s" for k, v in runs.items()),
                file=sys.stderr,
            )
        csv_mb = csv.stat().st_size / 1e6
    raw_rate = args.rows / statistics.median(raw)
    lines = [
        "## Batch scoring",
        "",
        *machine_description(load),
        "",
        f"Command: `make bench-batch` (`python -m benchmarks.batch`); {args.rows:,} penguin rows "
        f"resampled with seed {SEED} ({csv_mb:.0f} MB of CSV), chunks of {CHUNK:,} rows, "
        f"medians of {args.rounds} interleaved rounds.",
        "",
        "| run | seconds | rows/s | share of raw | peak RSS (child) |",
        "|---|---|---|---|---|",
        f"| raw `OnnxClassifier.predict` on prepared feeds (in process) | "
        f"{statistics.median(raw):.2f} | {raw_rate:,.0f} | 100% | |",
    ]
    verdicts = []
    for kind, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        peak = max(r["peak_rss"] for r in results) / 2**20
        share = args.rows / seconds / raw_rate
        verdicts.append(f"{kind} {share:.0%}")
        lines.append(
            f"| end to end from {kind} (read, check, score, write SQLite) | {seconds:.2f} | "
            f"{args.rows / seconds:,.0f} | {share:.0%} | {peak:,.0f} MiB |"
        )
    lines += [
        "",
        f"End to end vs raw: {', '.join(verdicts)} (target >= 50%). Peak RSS is the child's "
        "`ru_maxrss` (whole process: interpreter, pandas, onnxruntime, two chunks in flight).",
    ]
    write_section("batch", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
