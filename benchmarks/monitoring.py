"""`make bench-monitor`: `make monitor` over 10M logged predictions and 10M labels, beside
the same over 1M, and Evidently and NannyML on the same logs.

Builds what a busy service leaves behind (`build_logs`: the service's own log writers, a
fixed seed, 7 days, duplicates, relabels, unknown ids, bad lines), once per size, in a
temporary directory (or `--data DIR`, kept and reused). Then runs `python -m tabml.cli
monitor` on each in a child process and measures wall time, CPU time and the peak RSS of
the process tree. Target at 10M: <= 60 s and <= 2 GiB on 2 cores.

The peers run in `.bench-venv-monitor/` (benchmarks/envs/monitor.txt: their own pandas < 3)
on the `--peer-rows` logs (`benchmarks/monitor_peers.py`); where that venv is missing, the
section says so. Results go to docs/benchmarks.md (`monitoring`).
"""

import argparse
import json
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
TARGET_SECONDS, TARGET_BYTES = 60.0, 2 * 2**30
BASELINE_ROWS = 1_000_000
PEERS_VENV = ROOT / ".bench-venv-monitor"


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


def monitor_runs(logs: tuple[Path, Path], out: Path, rounds: int) -> list:
    requests, feedback = logs
    env = {**bench_env(ROOT), "TABML_REQUEST_LOG_DIR": str(requests),
           "TABML_FEEDBACK_LOG_DIR": str(feedback)}  # fmt: skip
    cmd = [sys.executable, "-m", "tabml.cli", "monitor", "--out", str(out)]
    runs = [measure(cmd, ROOT, env) for _ in range(rounds)]
    for run in runs:
        if run.returncode not in (0, 3):  # 3: an alert, a verdict like any other
            run.check("monitor")
    return runs


def peer_rows(logs: tuple[Path, Path], rows: int) -> list[str]:
    """Table rows of Evidently and NannyML on the logs (or why they did not run)."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        return [f"| Evidently, NannyML | {rows:,} | not run: no {PEERS_VENV.name}/ (`make "
                f"{PEERS_VENV.name}/.installed` failed) | | | |"]  # fmt: skip
    from tabml import paths

    found = []
    for tool in ("evidently", "nannyml"):
        cmd = [str(python), str(ROOT / "benchmarks/monitor_peers.py"), tool, *map(str, logs),
               str(ROOT / paths.TRAIN_DATA)]  # fmt: skip
        env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "DO_NOT_TRACK": "1",
               "NML_DISABLE_USAGE_LOGGING": "1"}  # offline: no usage reports  # fmt: skip
        run = measure(cmd, ROOT, env)
        if run.returncode != 0:
            why = run.lines[-1][1] if run.lines else f"exit {run.returncode}"
            found.append(f"| {tool} | {rows:,} | failed: `{why[:150]}` | | | |")
            continue
        phases = json.loads(run.lines[-1][1])
        found.append(
            f"| {tool} ({TOOLS[tool]}) | {rows:,} | {run.seconds:.1f} s | {run.cpu_seconds:.1f} s "
            f"| {run.peak_rss / 2**20:,.0f} MiB | import {phases['import_s']} s, read+join "
            f"{phases['read_join_s']} s, {tool} {phases['tool_s']} s |"
        )
    return found


TOOLS = {"evidently": "DataDriftPreset, all rows at once",
         "nannyml": "CBPE + univariate drift, 1-day chunks"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=PREDICTIONS)
    parser.add_argument("--baseline-rows", type=int, default=BASELINE_ROWS)
    parser.add_argument(
        "--peer-rows",
        type=int,
        default=BASELINE_ROWS,
        help="logs the peers run on (default 1M; not yet measured at 10M)",
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--data", type=Path, help="keep the built logs here and reuse them")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    if not (ROOT / "models/tabml_service.bento").exists():
        sys.exit("bench-monitor: no packaged model; run `make repro` first")
    results, built = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        folder = Path(tmp)
        for rows in dict.fromkeys([args.rows, args.baseline_rows]):
            requests, feedback, built[rows] = logs_at(args.data, folder / str(rows), rows)
            log_bytes = sum(f.stat().st_size for f in requests.glob("*.jsonl"))
            runs = monitor_runs((requests, feedback), folder / f"out-{rows}", args.rounds)
            results[rows] = (runs, log_bytes)
        requests, feedback, built[args.peer_rows] = logs_at(
            args.data, folder / str(args.peer_rows), args.peer_rows
        )
        peers = peer_rows((requests, feedback), args.peer_rows)
    markdown = report(args, results, peers, built, load_at_start)
    write_section("monitoring", markdown)
    print(markdown)


def report(args, results: dict, peers: list[str], built: dict, load_at_start) -> str:
    command = (
        f"python -m benchmarks.monitoring --rows {args.rows} --baseline-rows "
        f"{args.baseline_rows} --peer-rows {args.peer_rows} --rounds {args.rounds}"
    )
    table = []
    for rows, (runs, log_bytes) in results.items():
        seconds = statistics.median(r.seconds for r in runs)
        cpu = statistics.median(r.cpu_seconds for r in runs)
        peak = max(r.peak_rss for r in runs)
        target = ""
        if rows == args.rows:
            met = {True: "met", False: "NOT met"}
            target = (f"<= {TARGET_SECONDS:.0f} s {met[seconds <= TARGET_SECONDS]}, "
                      f"<= 2,048 MiB {met[peak <= TARGET_BYTES]}")  # fmt: skip
        table.append(f"| `make monitor` (tabml) | {rows:,} | {seconds:.1f} s | {cpu:.1f} s | "
                     f"{peak / 2**20:,.0f} MiB | {log_bytes / 2**20:,.0f} MiB of request log; "
                     f"{target} |")  # fmt: skip
    last = results[args.rows][0][-1]
    summary = last.lines[-2][1] if len(last.lines) > 1 else ""
    built_s = ", ".join(f"{rows:,} rows {s:.0f} s" for rows, s in built.items() if s)
    return "\n".join(
        [
            "## Monitoring",
            "",
            f"`make monitor` over {args.rows:,} logged predictions and as many labels, beside the "
            f"same over {args.baseline_rows:,} and the peers on {args.peer_rows:,}. Each log: "
            "penguin rows resampled with a fixed seed and scored by the packaged model, written "
            f"by the service's own log writers over 7 days ({FILE_LINES:,} lines a file); 90% of "
            "the predictions labelled, 5% of them first with a wrong label and corrected later, "
            "5% labels for unknown ids; one request file logged twice (duplicates) and a file of "
            "bad lines. One model version, 1-day windows, drift and label-free estimates per "
            f"window. Logs built in: {built_s or 'reused from --data'} (not measured). "
            f"Command: `{command}` (`make bench-monitor`).",
            "",
            *machine_description(load_at_start),
            "",
            f"| run | rows | wall (median of {args.rounds}) | CPU (user + system) | peak RSS "
            "(process tree) | notes |",
            "|---|---|---|---|---|---|",
            *table,
            *peers,
            "",
            "Wall time on this shared machine follows the load average above (other sessions' "
            "work on the same 2 cores); CPU time is the part that does not. The peers run in "
            "`.bench-venv-monitor/` (benchmarks/envs/monitor.txt, their own pandas < 3: Evidently "
            "0.7 does not import with pandas 3); they read the same logs with pyarrow, skip files "
            "with a bad line, and compute less: Evidently drift over all rows at once (no windows,"
            " no join, no metrics), NannyML CBPE estimates and drift per day but no measured "
            "metrics.",
            "",
            f"Last lines of the {args.rows:,}-row run: `{summary}`",
        ]
    )


if __name__ == "__main__":
    main()
