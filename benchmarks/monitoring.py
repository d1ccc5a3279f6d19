"""`make bench-monitor`: `make monitor` over 1,000,000 logged predictions and 1,000,000 labels.

Builds, in a temporary directory, what a busy service leaves behind: a request log of
1,000,000 predictions (penguin rows resampled with a fixed seed, scored by the packaged ONNX
model, spread over 7 days, 20,000 lines per file as the service writes them) and a feedback
log of 1,000,000 labels (900,000 predictions labelled once, 50,000 of them labelled again
later, 50,000 labels for unknown ids). Then runs `python -m tabml.cli monitor` on it in a
child process and measures wall time, CPU time and the peak RSS of the process tree.
Target: <= 15 s and <= 2 GiB on 2 cores. Results go to docs/benchmarks.md (`monitoring`).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.support import ROOT, bench_env, machine_description, measure, write_section

PREDICTIONS, SEED, FILE_LINES = 10_000_000, 0, 20_000  # the request log's file size
CHUNK_ROWS = 500_000  # rows generated at a time
TARGET_SECONDS, TARGET_BYTES = 15.0, 2 * 2**30


def build_logs(folder: Path, rows: int) -> tuple[Path, Path]:
    """A request log of `rows` scored predictions and a feedback log of `rows` labels,
    written in chunks (bounded memory at 10M rows) with the service's own writers.

    Penguin rows resampled with a fixed seed (each distinct row scored once by the packaged
    ONNX model), spread over 7 days, `FILE_LINES` lines per file. Labels: 90% of the
    predictions labelled, 5% of all of them first with a wrong label and later corrected,
    5% for unknown ids. Then what a real log also holds: one request file copied under
    another name (`FILE_LINES` predictions logged twice) and a file of bad lines (a line
    that is not JSON, a record without a timestamp, a torn last line).
    """
    from tabml import paths
    from tabml.scoring.model import load_packaged
    from tabml.scoring.prediction_ids import new_ids
    from tabml.serving.feedback import write_labels
    from tabml.serving.log_writer import write_lines
    from tabml.serving.request_log import make_record, write_batch

    model = load_packaged(ROOT / paths.ONNX_MODEL, ROOT / paths.BENTO_ARCHIVE)
    features = [r.name for r in model.rules]
    raw = pd.read_csv(ROOT / paths.RAW_DATA).dropna(subset=features).reset_index(drop=True)
    predicted, proba = model.predict(model.inputs(raw))
    classes, logged = model.task.classes, model.task.logged
    records = raw[features].astype(object).where(raw[features].notna(), None)
    inputs = records.to_dict("records")
    truth = raw[model.target].astype(str).to_numpy()
    probabilities = [dict(zip(classes, p.tolist(), strict=True)) for p in proba]
    rng = np.random.default_rng(SEED)
    start = datetime.now(UTC) - timedelta(days=7)
    step = 7 * 86400 / rows  # seconds between predictions, on average
    requests, feedback = folder / "requests", folder / "feedback"
    for first in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - first)
        picked = rng.integers(0, len(raw), count)
        seconds = (first + np.sort(rng.uniform(0, count, count))) * step
        ids = new_ids(count)
        for part in range(0, count, FILE_LINES):
            batch = []
            for i in range(part, min(part + FILE_LINES, count)):
                k = picked[i]
                answer = {"prediction_id": ids[i], "species": predicted[k],
                          "probabilities": probabilities[k]}  # fmt: skip
                now = start + timedelta(seconds=float(seconds[i]))
                batch.append(make_record(inputs[k], model.version, now, answer, "species", logged))
            write_batch(batch, requests, (first + part) // FILE_LINES)
        labelled = rng.permutation(count)[: count * 9 // 10]
        resent = labelled[: count // 20]
        pairs = [(ids[i], "Adelie") for i in resent]  # wrong first, corrected below
        pairs += [(ids[i], truth[picked[i]]) for i in labelled]
        pairs += [(u, "Gentoo") for u in new_ids(count // 20)]
        write_labels(pairs, "file:bench", feedback, max_bytes=2**40)
    first_file = min(requests.glob("*.jsonl"))
    write_lines([first_file.read_bytes()], requests, rows // FILE_LINES + 1)  # a copied file
    bad = [b"not json at all\n", b'{"model_version": "x", "inputs": {}}\n', b'{"timest']
    write_lines(bad, requests, rows // FILE_LINES + 2)
    return requests, feedback


def logs_at(folder: Path | None, tmp: Path, rows: int) -> tuple[Path, Path, float]:
    """The logs of `rows` predictions in `folder` (built once, reused when complete) or in
    `tmp`; and the seconds spent building them (0 when reused)."""
    where = (folder / f"rows-{rows}-seed-{SEED}") if folder else tmp
    done = where / "complete"
    if done.exists():
        return where / "requests", where / "feedback", 0.0
    started = time.perf_counter()
    where.mkdir(parents=True, exist_ok=True)
    requests, feedback = build_logs(where, rows)
    done.touch()
    return requests, feedback, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=PREDICTIONS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    if not (ROOT / "models/tabml_service.bento").exists():
        sys.exit("bench-monitor: no packaged model; run `make repro` first")
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        requests, feedback = build_logs(folder, args.rows)
        build_s = time.perf_counter() - started
        log_bytes = sum(f.stat().st_size for f in requests.glob("*.jsonl"))
        env = {**bench_env(ROOT), "TABML_REQUEST_LOG_DIR": str(requests),
               "TABML_FEEDBACK_LOG_DIR": str(feedback)}  # fmt: skip
        cmd = [sys.executable, "-m", "tabml.cli", "monitor", "--out", str(folder / "out")]
        runs = [measure(cmd, ROOT, env) for _ in range(args.rounds)]
        for run in runs:
            if run.returncode not in (0, 3):  # 3: an alert, a verdict like any other
                run.check("monitor")
    seconds = statistics.median(r.seconds for r in runs)
    cpu = statistics.median(r.cpu_seconds for r in runs)
    peak = max(r.peak_rss for r in runs)
    summary = runs[-1].lines[-1][1] if runs[-1].lines else ""
    ok_time, ok_memory = seconds <= TARGET_SECONDS, peak <= TARGET_BYTES
    command = f"python -m benchmarks.monitoring --rows {args.rows} --rounds {args.rounds}"
    markdown = "\n".join(
        [
            "## Monitoring",
            "",
            f"`make monitor` over {args.rows:,} logged predictions ({log_bytes / 2**20:,.0f} "
            f"MiB of request log in {args.rows // FILE_LINES:,} files) and {args.rows:,} labels "
            "(90% of the predictions labelled, 5% of them twice, 5% unknown ids), one model "
            "version, 1-day windows over 7 days, drift per window. Built in "
            f"{build_s:.0f} s (not measured). Command: `{command}` (`make bench-monitor`).",
            "",
            *machine_description(load_at_start),
            "",
            f"| measure | median of {len(runs)} runs | target |",
            "|---|---|---|",
            f"| wall time (interpreter start to exit) | {seconds:.1f} s | "
            f"<= {TARGET_SECONDS:.0f} s {'(met)' if ok_time else '(NOT met)'} |",
            f"| CPU time (user + system) | {cpu:.1f} s | |",
            f"| peak RSS of the process tree (max) | {peak / 2**20:,.0f} MiB | "
            f"<= 2,048 MiB {'(met)' if ok_memory else '(NOT met)'} |",
            "",
            "Wall time on this shared machine follows the load average above (other sessions' "
            "work on the same 2 cores); CPU time is the part that does not. The command sets "
            "pyarrow's jemalloc pool (by hand with /usr/bin/time, the default mimalloc pool spent "
            "about 4 s of system time on page faults where jemalloc spent about 2 s).",
            "",
            f"Each run's wall time: {', '.join(f'{r.seconds:.1f} s' for r in runs)}. "
            f"Last line of the last run: `{summary}`",
        ]
    )
    write_section("monitoring", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
