"""`make bench-batch`: batch scoring against a naive script, SQLite's floor, and on Dask.

One run, on this machine and in the same minutes, rounds interleaved, every scoring run a
fresh process:
(a) 1,000,000 rows CSV -> SQLite, whole processes (interpreter start to exit):
    `python -m tabml.cli batch` (what `make batch` runs) against the naive script
    (`benchmarks/naive_batch.py`: pandas `read_csv`, scikit-learn `predict_proba`,
    `DataFrame.to_sql`) on the same file; and `score_file` alone (timed inside a fresh
    process, after its imports and model loading) against the floor, timed the same way:
    SQLite's own `INSERT ... SELECT` of as many rows into a fresh `prediction_rows` (same
    columns, same pragmas, no Python per row) plus raw `PackagedModel.run` on feeds
    prepared in advance (in this process);
(b) 1,000,000 rows CSV -> PostgreSQL (a pgserver on a Unix socket), in process against
    `TABML_DASK_WORKERS=2`: `score_file`'s own seconds (the LocalCluster's start is
    reported apart), its COPYs' and final move's seconds, the machine's busy CPU seconds
    meanwhile (/proc/stat), and a hash of the written rows, which must be equal;
(c) 10,000,000 rows CSV -> SQLite in process: whole-process seconds against 10x the 1M
    median, and the peak RSS of the process.
Results go to docs/benchmarks.md (section `batch`).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.support import ROOT, bench_env, machine_description, measure, write_section

ROWS, BIG_ROWS, SEED, CHUNK = 1_000_000, 10_000_000, 0, 100_000
ROWS_HASH = (
    "SELECT md5(string_agg(concat_ws(',', input_row, label, proba_adelie, proba_chinstrap, "
    "proba_gentoo, substr(prediction_id, 15)), ';' ORDER BY input_row)) FROM predictions"
)


def make_input(path: Path, rows: int) -> Path:
    """Penguin rows resampled with a fixed seed (the target column stays, as in real files)."""
    raw = pd.read_csv(ROOT / "data/raw/dataset.csv")
    header = True
    with path.open("w") as out:
        for start in range(0, rows, ROWS):  # 1M rows at a time: bounded memory for 10M
            part = raw.sample(n=min(ROWS, rows - start), replace=True, random_state=SEED + start)
            part.to_csv(out, index=False, header=header)
            header = False
    return path


def raw_seconds(csv: Path) -> float:
    """Seconds of the ONNX model alone (`PackagedModel.run`) over all rows, feeds prepared
    beforehand by its input path."""
    from tabml import paths
    from tabml.scoring.model import load_packaged

    model = load_packaged(ROOT / paths.ONNX_MODEL, ROOT / paths.BENTO_ARCHIVE)
    feeds = [model.inputs(c).feeds for c in pd.read_csv(csv, chunksize=CHUNK)]
    start = time.perf_counter()
    for feed in feeds:
        model.run(feed)
    return time.perf_counter() - start


def sqlite_floor(rows: int, db: Path) -> float:
    """Seconds to insert `rows` rows into a fresh `prediction_rows` by SQL alone."""
    from sqlalchemy import text

    from tabml import paths
    from tabml.batch import db as batch_db
    from tabml.scoring.model import load_packaged

    task = load_packaged(ROOT / paths.ONNX_MODEL, ROOT / paths.BENTO_ARCHIVE).task
    classes = task.classes
    meta = batch_db.tables(task.batch_columns())[0]
    labels = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(classes))
    probas = ", ".join(f"(i % 997 + 0.{k + 1}) / 1000.0" for k in range(len(classes)))
    cte = (
        f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) "
        f"INSERT INTO prediction_rows SELECT i, NULL, CASE i % {len(classes)} {labels} END, "
        f"{probas} FROM s"
    )
    engine = batch_db.connect(f"sqlite:///{db}")
    with engine.begin() as conn:
        meta.create_all(conn)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(cte))
    seconds = time.perf_counter() - start
    engine.dispose()
    _remove(db)
    return seconds


def _remove(db: Path) -> None:
    for leftover in db.parent.glob(f"{db.name}*"):
        leftover.unlink()


def whole_process(cmd: list[str], db: Path, env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Wall seconds and peak RSS of one scoring process, start to exit."""
    run = measure(cmd, cwd, env).check(" ".join(cmd[:4]))
    _remove(db)
    return {"seconds": run.seconds, "cpu": run.cpu_seconds, "peak_rss": run.peak_rss}


def tabml_cmd(csv: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "tabml.cli", "batch", str(csv), "--db", f"sqlite:///{db}"]


def naive_cmd(csv: Path, db: Path) -> list[str]:
    return [sys.executable, str(ROOT / "benchmarks" / "naive_batch.py"), str(csv), str(db)]


def busy_cpu_seconds() -> float:
    """CPU seconds this machine has spent busy (all processes, all cores) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def time_postgres_sink(spent: dict[str, float]) -> None:
    """Add the seconds of every COPY and of the final move to `spent` (this process only)."""
    from tabml.batch.postgres_sink import PostgresSink

    for method, name in ((PostgresSink._copy, "copy"), (PostgresSink.finish, "move")):

        def timed(self, *args, _method=method, _name=name):
            start = time.perf_counter()
            _method(self, *args)
            spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - start

        setattr(PostgresSink, method.__name__, timed)


def child(csv: Path, url: str) -> None:
    """Score `csv` into `url` with the engine the environment configures; print JSON: the
    seconds, the machine's busy CPU seconds meanwhile, and (PostgreSQL) COPY and move seconds."""
    from tabml import paths
    from tabml.batch.score import score_file
    from tabml.engine import open_engine
    from tabml.scoring.model import load_packaged

    os.chdir(ROOT)
    start = time.perf_counter()
    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    spent: dict[str, float] = {}
    if url.startswith("postgresql"):
        time_postgres_sink(spent)
    with open_engine(quiet=True) as engine:
        ready = time.perf_counter() - start
        files = (paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
        busy = busy_cpu_seconds()
        result = score_file(csv, url, model, chunk_rows=CHUNK, engine=engine, model_files=files)
        busy = busy_cpu_seconds() - busy
    print(json.dumps({"seconds": result.seconds, "rows": result.rows, "startup": ready,
                      "busy": busy, **spent}))  # fmt: skip


def baseline_env(checkout: Path) -> dict[str, str]:
    """The environment that runs `checkout`'s own code (its src/ and benchmarks/)."""
    return {**bench_env(), "PYTHONPATH": f"{checkout / 'src'}:{checkout}"}


def child_run(csv: Path, url: str, workers: str | None = None, checkout: Path = ROOT) -> dict:
    """`child` in a fresh process: `score_file`'s own seconds, without interpreter start,
    imports and model loading (of `checkout`'s code and packaged model)."""
    import subprocess

    env = bench_env() if checkout == ROOT else baseline_env(checkout)
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env.pop("TABML_DASK_WORKERS", None)
    if workers:
        env["TABML_DASK_WORKERS"] = workers
    cmd = [sys.executable, "-m", "benchmarks.batch", "--child", str(csv), url]
    out = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"batch scoring into {url} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def postgres_run(csv: Path, server, name: str, workers: str | None) -> dict:
    from testkit.postgres import fresh_database, pg_rows

    url = fresh_database(server, name)
    result = child_run(csv, url, workers)
    result["hash"] = pg_rows(url, ROWS_HASH)[0][0]
    server.psql(f"DROP DATABASE {name};")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--big-rows", type=int, default=BIG_ROWS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout with its packaged model (e.g. a worktree of main after `make "
        "repro`): scored in every round with its own code, beside this one",
    )
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    from testkit.postgres import postgres_server

    load = os.getloadavg()
    runs: dict[str, list] = {
        k: []
        for k in ("tabml", "unforked", "inproc", "naive", "floor", "raw", "pg", "pg2",
                  "baseline", "baseline_inproc")
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = make_input(folder / "rows.csv", args.rows)
        db = folder / "out.db"
        with postgres_server(folder / "postgres") as server:
            for round_ in range(args.rounds):
                runs["naive"].append(whole_process(naive_cmd(csv, db), db))
                runs["tabml"].append(whole_process(tabml_cmd(csv, db), db))
                unforked = {**bench_env(), "TABML_BATCH_FORK": "0"}
                runs["unforked"].append(whole_process(tabml_cmd(csv, db), db, unforked))
                runs["inproc"].append(child_run(csv, f"sqlite:///{db}"))
                _remove(db)
                if args.baseline is not None:  # the same two runs with the other checkout
                    env, cwd = baseline_env(args.baseline), args.baseline
                    cmd = [*tabml_cmd(csv, db), "--stale-ok"]
                    runs["baseline"].append(whole_process(cmd, db, env, cwd))
                    url = f"sqlite:///{db}"
                    runs["baseline_inproc"].append(child_run(csv, url, checkout=args.baseline))
                    _remove(db)
                runs["floor"].append(sqlite_floor(args.rows, db))
                runs["raw"].append(raw_seconds(csv))
                if round_ < 2:
                    runs["pg"].append(postgres_run(csv, server, f"bench_{round_}_a", None))
                    runs["pg2"].append(postgres_run(csv, server, f"bench_{round_}_b", "2"))
                print(f"round {round_ + 1}: " + ", ".join(
                    f"{k} {_seconds(v[-1]):.2f} s" for k, v in runs.items() if v
                ), file=sys.stderr)  # fmt: skip
        csv_mb = csv.stat().st_size / 1e6
        csv.unlink()
        big = make_input(folder / "big.csv", args.big_rows)
        big_run = whole_process(tabml_cmd(big, db), db)
    header = [
        "## Batch scoring",
        "",
        *machine_description(load),
        "",
        f"Command: `make bench-batch` (`python -m benchmarks.batch"
        f"{''.join(' ' + a for a in sys.argv[1:])}`); {args.rows:,} penguin rows "
        f"resampled with seed {SEED} ({csv_mb:.0f} MB of CSV), medians of {args.rounds} "
        "interleaved rounds (PostgreSQL: 2), each scoring run a fresh process.",
        "",
    ]
    lines = header + report(runs, big_run, args.rows, args.big_rows)
    write_section("batch", "\n".join(lines))
    print("\n".join(lines))


def _seconds(value) -> float:
    return value["seconds"] if isinstance(value, dict) else value


def _medians(results: list[dict]) -> dict[str, float]:
    return {k: statistics.median(r.get(k, 0.0) for r in results) for k in ("move", "copy", "busy")}


def report(runs: dict, big: dict, rows: int, big_rows: int) -> list[str]:
    """The three tables and the verdicts against the targets."""
    med = {k: statistics.median(_seconds(v) for v in vs) for k, vs in runs.items() if vs}
    peak = max(r["peak_rss"] for r in runs["tabml"]) / 2**20
    bound = med["floor"] + med["raw"]
    speedup, over_floor = med["naive"] / med["tabml"], med["inproc"] / bound
    cpu = {k: statistics.median(r["cpu"] for r in runs[k]) for k in ("naive", "tabml", "unforked")}
    per_round = ", ".join(
        f"{n['seconds'] / t['seconds']:.2f}x" for n, t in zip(runs["naive"], runs["tabml"])
    )
    lines = [
        f"### {rows:,} rows CSV -> SQLite, whole processes",
        "",
        "| run | seconds | CPU seconds | rows/s | |",
        "|---|---|---|---|---|",
        f"| naive script: pandas `read_csv`, scikit-learn `predict_proba`, `to_sql` | "
        f"{med['naive']:.2f} | {cpu['naive']:.2f} | {rows / med['naive']:,.0f} | baseline |",
        f"| `python -m tabml.cli batch` (read, check, score, write; peak RSS {peak:,.0f} MiB) | "
        f"{med['tabml']:.2f} | {cpu['tabml']:.2f} | {rows / med['tabml']:,.0f} | "
        f"{speedup:.2f}x faster |",
        f"| the same, `TABML_BATCH_FORK=0` (scoring between writes, one process) | "
        f"{med['unforked']:.2f} | {cpu['unforked']:.2f} | {rows / med['unforked']:,.0f} | "
        f"{med['naive'] / med['unforked']:.2f}x faster |",
        f"| `score_file` alone: the same work, timed inside its process (no interpreter start, "
        f"imports or model loading) | {med['inproc']:.2f} | | {rows / med['inproc']:,.0f} | |",
        f"| SQLite floor: `INSERT ... SELECT` into `prediction_rows`, no Python per row | "
        f"{med['floor']:.2f} | | {rows / med['floor']:,.0f} | |",
        f"| raw `PackagedModel.run` on prepared feeds (in process) | {med['raw']:.2f} | | "
        f"{rows / med['raw']:,.0f} | |",
        f"| floor + raw (in process, like `score_file` alone) | {bound:.2f} | | "
        f"{rows / bound:,.0f} | `score_file` at {over_floor:.2f}x |",
        "",
        f"- [{'x' if speedup >= 2 else ' '}] >= 2x faster than the naive script: {speedup:.2f}x "
        f"(per round {per_round}; CPU seconds {cpu['naive'] / cpu['tabml']:.2f}x)",
        f"- [{'x' if over_floor <= 1.5 else ' '}] <= 1.5x of floor + raw, both timed in process: "
        f"{over_floor:.2f}x (the whole process against floor + raw: "
        f"{med['tabml'] / bound:.2f}x)",
        "",
    ]
    if runs["baseline"]:
        per_round = ", ".join(
            f"{b['seconds'] / t['seconds']:.2f}"
            for b, t in zip(runs["baseline_inproc"], runs["inproc"], strict=True)
        )
        scoring = med["baseline_inproc"] / med["inproc"]
        lines += [
            f"Against `--baseline` (another checkout, scored with its own code in the same "
            f"rounds): `score_file` alone {med['inproc']:.2f} s vs {med['baseline_inproc']:.2f} "
            f"s, whole process {med['tabml']:.2f} s vs {med['baseline']:.2f} s.",
            "",
            f"- [{'x' if scoring >= 0.95 else ' '}] the scoring is no slower than the baseline's "
            f"(its seconds over ours, `score_file` alone, median {scoring:.2f}; per round "
            f"{per_round}; whole process {med['baseline'] / med['tabml']:.2f})",
            "",
        ]
    if runs["pg"]:
        same = len({r["hash"] for r in runs["pg"] + runs["pg2"]}) == 1
        gain = med["pg"] / med["pg2"]
        start = statistics.median(r["startup"] for r in runs["pg2"])
        pg = {k: _medians(runs[k]) for k in ("pg", "pg2")}
        # The best any engine could do with the in-process run's work on 2 cores: the move at
        # the end runs alone on one server process, the rest of the busy CPU spread over both.
        best = pg["pg"]["move"] + (pg["pg"]["busy"] - pg["pg"]["move"]) / 2
        lines += [
            f"### {rows:,} rows CSV -> PostgreSQL: in process vs `TABML_DASK_WORKERS=2`",
            "",
            "| engine | seconds (`score_file`) | rows/s | of which the move at the end | COPY "
            "into staging (beside the scoring) | machine CPU busy meanwhile |",
            "|---|---|---|---|---|---|",
            *(
                f"| {label} | {med[k]:.2f} | {rows / med[k]:,.0f} | {pg[k]['move']:.2f} s | "
                f"{pg[k]['copy']:.2f} s | {pg[k]['busy']:.2f} CPU s "
                f"({pg[k]['busy'] / med[k]:.2f} cores) |"
                for k, label in (
                    ("pg", "in process"),
                    ("pg2", f"LocalCluster of 2 workers (+{start:.1f} s to start it, not counted)"),
                )
            ),
            "",
            f"- [{'x' if gain >= 1.3 else ' '}] 2 workers >= 1.3x the in-process rows/s: "
            f"{gain:.2f}x",
            f"- the best any engine could do on these 2 cores with the in-process run's work: "
            f"the move alone plus the rest of the busy CPU over both cores, {best:.2f} s = "
            f"{med['pg'] / best:.2f}x the in-process time",
            f"- [{'x' if same else ' '}] identical rows (md5 of every written row, in order)",
            "",
        ]
    ratio, big_peak = big["seconds"] / med["tabml"], big["peak_rss"] / 2**20
    lines += [
        f"### {big_rows:,} rows CSV -> SQLite in process (one run)",
        "",
        f"Whole process {big['seconds']:.1f} s ({big_rows / big['seconds']:,.0f} rows/s), "
        f"{ratio:.1f}x the {rows:,}-row median; peak RSS {big_peak:,.0f} MiB.",
        "",
        f"- [{'x' if ratio <= 11 else ' '}] time <= 11x the {rows:,}-row time: {ratio:.1f}x",
        f"- [{'x' if big_peak <= 1024 else ' '}] peak memory <= 1 GiB: {big_peak:,.0f} MiB",
    ]
    return lines


if __name__ == "__main__":
    main()
