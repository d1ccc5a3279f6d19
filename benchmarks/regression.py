"""Regression against classification: batch scoring of the same rows, and serving vs a no-op.

`make bench-regression`: in a temporary copy of the repo, packages the penguins classifier
(`dvc repro`) and the `penguins_mass` regressor (`dvc exp run -S data.profile=penguins_mass
-S train.model=ridge`), then
- scores the same 1,000,000 resampled penguin rows (CSV) into SQLite with each packaged model,
  in fresh processes, interleaved rounds (`score_file`, as `make batch` runs it);
- runs `benchmarks/serving.py` in the copy with the regressor in the workspace: the
  regression server against the no-op server built from the same model's rules.
Writes the `regression` section of docs/benchmarks.md.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks.support import machine_description, write_section
from testkit import repo_copy
from testkit import tool_env as bench_env

ROWS, SEED, CHUNK = 1_000_000, 7, 100_000
PACKAGE = ("models/model.onnx", "models/tabml_service.bento")


def _run(cmd: list[str], cwd: Path) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=bench_env(cwd), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out.stdout


def package_both(repo: Path, keep: Path) -> dict[str, Path]:
    """Package the classifier, keep its files, then package the regressor in the workspace."""
    _run(["dvc", "repro"], repo)
    kept = {"classification": keep / "classification"}
    kept["classification"].mkdir(parents=True)
    for name in PACKAGE:
        shutil.copy2(repo / name, kept["classification"] / Path(name).name)
    _run(["dvc", "exp", "run", "-S", "data.profile=penguins_mass", "-S", "train.model=ridge"], repo)
    kept["regression"] = keep / "regression"
    kept["regression"].mkdir(parents=True)
    for name in PACKAGE:
        shutil.copy2(repo / name, kept["regression"] / Path(name).name)
    return kept


def child(folder: Path, rows: Path, db: Path) -> None:
    """Score `rows` with the packaged model in `folder`; print seconds as JSON."""
    from tabml.batch.score import score_file
    from tabml.scoring.model import load_packaged

    model = load_packaged(folder / "model.onnx", folder / "tabml_service.bento")
    result = score_file(rows, f"sqlite:///{db}", model, chunk_rows=CHUNK)
    print(json.dumps({"seconds": result.seconds, "rows": result.rows}))


def batch_seconds(folder: Path, rows: Path, db: Path, repo: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.regression",
        "--child",
        str(folder),
        str(rows),
        str(db),
    ]
    seconds = json.loads(_run(cmd, Path(__file__).resolve().parents[1]).splitlines()[-1])
    for leftover in db.parent.glob(f"{db.name}*"):
        leftover.unlink()
    return seconds["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-regression-"))
    repo = repo_copy(work / "repo")
    models = package_both(repo, work / "models")
    raw = pd.read_csv(repo / "data/raw/dataset.csv")
    rows = work / "rows.csv"
    raw.sample(n=args.rows, replace=True, random_state=SEED).to_csv(rows, index=False)
    runs: dict[str, list[float]] = {"classification": [], "regression": []}
    for round_ in range(args.rounds):
        order = list(runs) if round_ % 2 == 0 else list(runs)[::-1]
        for task in order:
            runs[task].append(batch_seconds(models[task], rows, work / f"{task}.db", repo))
            print(task, round_, runs[task][-1], flush=True)
    served = work / "serving.md"
    serve_cmd = [sys.executable, "benchmarks/serving.py", "--variants", "noop,model"]
    serve_cmd += ["--rounds", str(args.serve_rounds), "--bursts", "6", "--out", str(served)]
    _run(serve_cmd, repo)
    medians = {task: statistics.median(seconds) for task, seconds in runs.items()}
    ratio = medians["regression"] / medians["classification"]
    lines = [
        "## Regression",
        "",
        f"Command: `python -m benchmarks.regression --rows {args.rows} --rounds {args.rounds}`"
        " (`make bench-regression`).",
        "",
        *machine_description(load_at_start),
        "",
        f"Batch scoring of the same {args.rows:,} resampled penguin rows (CSV -> SQLite, fresh"
        " processes, interleaved rounds), `penguins` classifier (logistic regression) against"
        " the `penguins_mass` regressor (ridge, with its interval columns):",
        "",
        "| model | seconds per round | median |",
        "|---|---|---|",
        *(
            f"| {task} | {', '.join(f'{s:.2f}' for s in runs[task])} | {medians[task]:.2f} |"
            for task in runs
        ),
        "",
        f"- [{'x' if ratio <= 1.05 else ' '}] the regressor scores no slower than the"
        f" classifier: {ratio:.0%} of its time (5% allowed for noise)",
        "",
        "Serving the regressor (`benchmarks/serving.py` run in the copy, whose workspace holds"
        " the `penguins_mass` model; the no-op server has the same request model):",
        "",
        # the serving report without its own heading and "Written by" line
        *served.read_text().split("\n", 4)[4].splitlines(),
    ]
    write_section("regression", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
