"""`make bench-feedback`: `make feedback` of 1,000,000 labels, all or nothing, then `make monitor`.

Builds, in a temporary directory, a request log of 1,000,000 predictions (as `make
bench-monitor` does) and a CSV of one label for each of them. Then, each in a child
process with its wall time and the peak RSS of its process tree:

1. `python -m tabml.cli feedback labels.csv` with the default limit (100 MiB): the labels
   do not fit, so the import must be refused before any is written;
2. the same with `--max-bytes` raised: every label imported;
3. `python -m tabml.cli monitor`: every one of the 1,000,000 labels must be joined.

Results go to docs/benchmarks.md (`feedback import`).
"""

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.monitoring import build_logs
from benchmarks.support import ROOT, bench_env, machine_description, measure, write_section

ROWS, SEED = 1_000_000, 7
RAISED = 400 * 2**20  # bytes: room for a million labels (~130 bytes a line)


def labels_file(requests: Path, folder: Path) -> Path:
    """One label per logged prediction (a class drawn with a fixed seed), as a CSV."""
    from tabml.monitoring.sources import read_request_log

    ids = read_request_log(requests).frame["prediction_id"]
    classes = np.array(["Adelie", "Chinstrap", "Gentoo"])
    picked = classes[np.random.default_rng(SEED).integers(0, 3, len(ids))]
    path = folder / "labels.csv"
    pd.DataFrame({"prediction_id": ids, "label": picked}).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    if not (ROOT / "models/tabml_service.bento").exists():
        sys.exit("bench-feedback: no packaged model; run `make repro` first")
    with tempfile.TemporaryDirectory(prefix="bench-feedback-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        requests, _ = build_logs(folder, args.rows)
        labels = labels_file(requests, folder)
        build_s = time.perf_counter() - started
        feedback = folder / "imported"
        env = {**bench_env(ROOT), "TABML_REQUEST_LOG_DIR": str(requests),
               "TABML_FEEDBACK_LOG_DIR": str(feedback)}  # fmt: skip
        cli = [sys.executable, "-m", "tabml.cli"]
        refused = measure([*cli, "feedback", str(labels)], ROOT, env)
        written_after_refusal = sorted(feedback.glob("*")) if feedback.exists() else []
        imported = measure([*cli, "feedback", str(labels), "--max-bytes", str(RAISED)], ROOT, env)
        imported.check("feedback --max-bytes")
        log_bytes = sum(f.stat().st_size for f in feedback.glob("*.jsonl"))
        monitor = measure([*cli, "monitor", "--out", str(folder / "out")], ROOT, env)
        if monitor.returncode not in (0, 3):
            monitor.check("monitor")
    output = "\n".join(line for _, line in refused.lines)
    summary = next((line for _, line in monitor.lines if re.match(r"monitor: [\d,]+ predictions",
                                                                   line)), "")  # fmt: skip
    joined = re.search(r"([\d,]+) labelled", summary)
    all_joined = joined is not None and int(joined[1].replace(",", "")) == args.rows
    ok_refusal = refused.returncode == 1 and "nothing imported" in output
    ok_refusal = ok_refusal and not written_after_refusal
    command = f"python -m benchmarks.feedback_import --rows {args.rows}"
    markdown = "\n".join(
        [
            "## Feedback import",
            "",
            f"`make feedback` of {args.rows:,} labels (a CSV, one label per logged prediction), "
            f"all or nothing, then `make monitor` over them and {args.rows:,} logged "
            f"predictions. Built in {build_s:.0f} s (not measured). Command: `{command}` "
            "(`make bench-feedback`).",
            "",
            *machine_description(load_at_start),
            "",
            "| step | wall time | peak RSS | outcome |",
            "|---|---|---|---|",
            f"| `feedback labels.csv` (limit 100 MiB) | {refused.seconds:.1f} s | "
            f"{refused.peak_rss / 2**20:,.0f} MiB | exit {refused.returncode}, "
            f"{'refused, nothing written (met)' if ok_refusal else 'NOT refused whole'} |",
            f"| `feedback labels.csv --max-bytes {RAISED}` | {imported.seconds:.1f} s | "
            f"{imported.peak_rss / 2**20:,.0f} MiB | {log_bytes / 2**20:,.0f} MiB of feedback "
            "log written |",
            f"| `monitor` | {monitor.seconds:.1f} s | {monitor.peak_rss / 2**20:,.0f} MiB | "
            f"{'every label joined (met)' if all_joined else 'NOT every label joined'} |",
            "",
            f"The refusal: `{output.strip().splitlines()[-1] if output.strip() else ''}`",
            "",
            f"Last line of the monitor: `{summary}`",
        ]
    )
    write_section("feedback-import", markdown)
    print(markdown)
    if not (ok_refusal and all_joined):
        sys.exit(1)


if __name__ == "__main__":
    main()
