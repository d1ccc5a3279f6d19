"""`make bench-serve`: throughput and latency of the real server against a no-op baseline.

One run measures, on this machine and in the same minutes:
- the packaged service (the exported bento, as `make serve` runs it, request log on)
  and the same without the request log,
- the same server with a no-op model (benchmarks/noop_service.py),
- the model behind BentoML's adaptive batching (benchmarks/batchable_service.py),
- both servers with 2 workers, and the packaged service with the access log on,
- an in-process scikit-learn baseline (predict_proba on a one-row DataFrame) and the
  in-process ONNX scorer.
Each round starts a fresh process of every variant and loads them in turn, in short bursts, so
that all of them see the same minutes of this machine (its speed moves by tens of percent
within seconds); one server is loaded at a time. The ratio to the no-op is taken per round,
and the median round counts. Results go to the `serving` section of docs/benchmarks.md.
"""

import argparse
import functools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo root
from benchmarks.support import write_section
from testkit.loadgen import pin, python_load, wrk_load

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "model@baseline"  # `--baseline`: another bento, served as `model` is
# Variants whose requests carry more than the record (the same server as `model`).
REQUEST_EXTRAS = {"model+explain": {"explain": True}}
VARIANTS = {
    "model": [sys.executable, "-m", "tabml.cli", "serve"],
    "model+accesslog": [sys.executable, "-m", "tabml.cli", "serve"],
    "model-requestlog": [sys.executable, "-m", "tabml.cli", "serve"],
    "model-from-source": [
        *("bentoml", "serve", "tabml.serving.service:TabmlService", "--working-dir", "src")
    ],
    "model+2workers": [sys.executable, "-m", "tabml.cli", "serve"],
    "model+explain": [sys.executable, "-m", "tabml.cli", "serve"],
    # The packaged model also as a shadow of every request (`make serve SHADOW=...:1`).
    "model+shadow": [
        *(sys.executable, "-m", "tabml.cli", "serve", "--shadow", "models/tabml_service.bento:1")
    ],
    "noop+2workers": [
        "bentoml",
        "serve",
        "noop_service:NoopService",
        "--working-dir",
        "benchmarks",
    ],
    "noop": ["bentoml", "serve", "noop_service:NoopService", "--working-dir", "benchmarks"],
    "noop-requestlog": [
        *("bentoml", "serve", "noop_service:NoopService"),
        *("--working-dir", "benchmarks"),
    ],
    "batchable": [
        *("bentoml", "serve", "batchable_service:BatchableService"),
        *("--working-dir", "benchmarks"),
    ],
}


def example_record() -> dict:
    """The first complete row of the test split, as an API record (any dataset)."""
    import pandas as pd

    from tabml import paths
    from tabml.data.profile import load_profile
    from tabml.params import load_params

    features = load_profile(load_params().data.profile).features.all
    frame = pd.read_parquet(paths.TEST_DATA)[features].dropna()
    return json.loads(frame.head(1).to_json(orient="records"))[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_split(enabled: bool) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, load generator CPUs): the server on the first core, the load on the rest.

    Left to the scheduler, the load generator and the server's event loop share a core in
    some runs and not in others, which moved a server's req/s by up to 40% between rounds.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if not enabled or len(cpus) < 2:
        return None, None
    return {cpus[0]}, set(cpus[1:])


def start_server(
    name: str, command: list[str], port: int, log: Path, cpus: set[int] | None = None
) -> subprocess.Popen:
    """Start a server in its own process group (pinned to `cpus`); wait until /readyz answers."""
    args = [*command, "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env["TABML_ACCESS_LOG"] = "1" if name.endswith("+accesslog") else "0"
    # The request log is on as in `make serve`, but written beside the server output.
    env["TABML_REQUEST_LOG"] = "0" if name.endswith("-requestlog") else "1"
    env["TABML_REQUEST_LOG_DIR"] = str(log.parent / "requests")
    env["TABML_FEEDBACK_LOG_DIR"] = str(log.parent / "feedback")
    env["TABML_CHALLENGER_LOG_DIR"] = str(log.parent / "challengers")
    if name.endswith("+2workers"):
        env["TABML_WORKERS"] = "2"
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=pin(cpus),
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server {args} exited; log: {log}\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"server {args} not ready after 90 s; log: {log}")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def server_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        # after the name: state, ppid, ..., utime and stime are the 12th and 13th fields
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, (ppid, _) in stats.items() if ppid in tree} - tree
        tree, grew = tree | children, bool(children)
    return sum(stats[pid][1] for pid in tree if pid in stats) / os.sysconf("SC_CLK_TCK")


class Server:
    """One running variant: its process, port and the loads measured against it this round."""

    def __init__(self, name: str, proc: subprocess.Popen, port: int):
        self.name, self.proc = name, proc
        self.url = f"http://127.0.0.1:{port}/predict"
        self.bursts: list[dict] = []

    def burst(self, load, body: str, seconds: float) -> dict:
        """One 16-connection load run, with the server's CPU time it cost."""
        cpu_before = server_cpu_seconds(self.proc.pid)
        result = load(self.url, body, connections=16, seconds=seconds)
        result["cpu_seconds"] = server_cpu_seconds(self.proc.pid) - cpu_before
        return result


def measure_round(
    servers: list[Server], load, bodies: dict[str, str], bursts: int, seconds: float, round_: int
) -> list[dict]:
    """Alternate short 16-connection bursts between the servers, then one sequential run each.

    The machine's speed moves by tens of percent within seconds, so every server is measured
    in the same minutes, in turn (forward, then backward order), never one after the other
    for long; a server's figure for the round pools its bursts.
    """
    for server in servers:
        body = bodies[server.name]
        response = httpx.post(
            server.url, content=body, headers={"Content-Type": "application/json"}
        )
        response.raise_for_status()
        load(server.url, body, connections=16, seconds=2)  # warm-up
    for burst in range(bursts):
        for server in servers if burst % 2 == 0 else servers[::-1]:
            server.bursts.append(server.burst(load, bodies[server.name], seconds))
    rows = []
    for server in servers:
        sequential = load(server.url, bodies[server.name], connections=1, seconds=seconds)
        requests = sum(b["requests"] for b in server.bursts)
        elapsed = sum(b["requests"] / b["rps"] for b in server.bursts if b["rps"])
        cpu = sum(b["cpu_seconds"] for b in server.bursts)
        rows.append(
            {
                "variant": server.name,
                "round": round_,
                "rps_16": round(requests / elapsed, 1) if elapsed else 0.0,
                "errors_16": sum(b["errors"] for b in server.bursts),
                "requests_16": requests,
                # CPU per request: the same ratio, measured by the kernel instead of the client
                "cpu_us_per_request": round(cpu / max(requests, 1) * 1e6, 1),
                "p50_ms_seq": sequential["p50_ms"],
                "p99_ms_seq": sequential["p99_ms"],
                "errors_seq": sequential["errors"],
                "bursts_rps": [round(b["rps"]) for b in server.bursts],
            }
        )
    return rows


FEEDBACK_LABELS = 100  # labels per `POST /feedback` request


def feedback_load(load, model_arg: list[str], cpus, logs: Path, seconds: float) -> dict:
    """`POST /feedback` at 16 connections on a fresh `make serve` server: labels/s, errors.

    The ids are well-formed UUIDv7s the server never issued: an unknown id is accepted and
    logged like any other (the join counts it as unmatched later).
    """
    from tabml.scoring.packaged import read_model
    from tabml.scoring.prediction_ids import new_ids

    classes = read_model(ROOT / "models/tabml_service.bento")[0]["metadata"].get("classes")
    label = classes[0] if classes else 1.0  # a regressor's labels are numbers
    port = free_port()
    proc = start_server("model", VARIANTS["model"], port, logs / "feedback.log", cpus)
    try:
        url = f"http://127.0.0.1:{port}/feedback"
        labels = [{"prediction_id": i, "label": label} for i in new_ids(FEEDBACK_LABELS)]
        body = json.dumps({"labels": labels})
        httpx.post(
            url, content=body, headers={"Content-Type": "application/json"}
        ).raise_for_status()
        result = load(url, body, connections=16, seconds=max(seconds, 5.0))
    finally:
        stop_server(proc)
    return {"labels_per_s": result["rps"] * FEEDBACK_LABELS, **result}


def in_process(seconds: float, record: dict) -> dict:
    """Per-call cost of scikit-learn on a one-row DataFrame vs the ONNX scorer, in-process."""
    import joblib
    import pandas as pd

    from tabml import paths
    from tabml.data.profile import load_profile
    from tabml.model.features import model_frame
    from tabml.params import load_params
    from tabml.scoring.model import load_packaged

    profile = load_profile(load_params().data.profile)
    pipeline = joblib.load(paths.MODEL)
    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    sklearn_predict = getattr(pipeline, "predict_proba", pipeline.predict)

    def sklearn_call() -> None:
        sklearn_predict(model_frame(pd.DataFrame([record]), profile.features))

    def onnx_call() -> None:
        model.score([record])

    result = {}
    for name, call in [("sklearn", sklearn_call), ("onnx", onnx_call)]:
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            call()
            calls += 1
        result[f"{name}_us"] = (time.perf_counter() - start) / calls * 1e6
    return result


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    import bentoml
    import onnxruntime

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "bentoml": bentoml.__version__,
        "onnxruntime": onnxruntime.__version__,
        "load_before": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per load burst")
    parser.add_argument("--bursts", type=int, default=6, help="16-connection bursts per server")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, each with fresh servers")
    parser.add_argument(
        "--variants",
        default="noop,model,noop-requestlog,model-requestlog,noop+2workers,model+2workers,"
        "batchable,model+accesslog,model+explain,model+shadow",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="write a separate file (e.g. for a quick smoke run) instead of"
        " the `serving` section of docs/benchmarks.md",
    )
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another exported bento (e.g. main's models/tabml_service.bento): served as "
        "variant `model@baseline` beside `model`, its req/s compared round by round",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="let the scheduler place server and load generator"
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    if not Path("models/tabml_service.bento").exists():
        sys.exit("error: models/tabml_service.bento missing: run `make repro` first")
    from tabml.scoring.packaged import archive_info
    from tabml.serving.launch import ensure_imported

    ensure_imported(Path("models/tabml_service.bento"))  # puts its model into the store too
    model_arg = [
        "--arg",
        f"model={archive_info(Path('models/tabml_service.bento'))['args']['model']}",
    ]
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    if not use_wrk:
        print(
            "wrk not found (apt-get install -y wrk): using the Python load generator, "
            "which itself saturates early on 2 cores; figures are lower bounds",
            flush=True,
        )
    info = machine()
    server_cpus, load_cpus = cpu_split(not args.no_pin)
    info["pinning"] = (
        f"server on CPU {sorted(server_cpus)}, load generator on CPUs {sorted(load_cpus)}"
        if server_cpus
        else "none"
    )
    record = example_record()
    rows: dict[str, list[dict]] = {}
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    load = functools.partial(wrk_load if use_wrk else python_load, cpus=load_cpus)
    names = args.variants.split(",")
    if args.baseline is not None:  # the same command on the other bento (its own code inside)
        archive = str(args.baseline.resolve())
        VARIANTS[BASELINE] = [*VARIANTS["model"], "--archive", archive, "--stale-ok"]
        names.append(BASELINE)
    bodies = {n: json.dumps({"records": [record], **REQUEST_EXTRAS.get(n, {})}) for n in names}
    for round_ in range(args.rounds):
        # Fresh processes every round: a process's figure also depends on its own start.
        servers: list[Server] = []
        try:
            for name in names:
                port = free_port()
                # the source-served variants load the bento's exact model
                source_served = VARIANTS[name][0] == "bentoml"
                command = VARIANTS[name] + (model_arg if source_served else [])
                log = logs / f"{name}-{round_}.log"
                proc = start_server(name, command, port, log, server_cpus)
                servers.append(Server(name, proc, port))
            for row in measure_round(servers, load, bodies, args.bursts, args.seconds, round_):
                print(json.dumps(row), flush=True)
                rows.setdefault(row["variant"], []).append(row)
        finally:
            for server in servers:
                stop_server(server.proc)
    if "model" in names:
        info["feedback"] = feedback_load(load, model_arg, server_cpus, logs, args.seconds)
    info["shadow"] = shadow_counts(logs / "challengers")
    info["load_after"] = os.getloadavg()[0]
    info["loadgen"] = "wrk (1 thread)" if use_wrk else "python (multi-process http.client)"
    figures = ["rps_16", "cpu_us_per_request", "p50_ms_seq", "p99_ms_seq"]
    medians = {
        name: {k: statistics.median(r[k] for r in runs) for k in figures}
        | {"errors": sum(r["errors_16"] + r["errors_seq"] for r in runs)}
        for name, runs in rows.items()
    }
    baseline = in_process(5.0, record)  # its own duration: --seconds is now a burst's
    report = render(info, medians, rows, baseline, args, record)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
    else:
        write_section("serving", report)
    print(report)


def shadow_counts(folder: Path) -> dict:
    """What the `model+shadow` servers' shadows did, summed over their status files."""
    from tabml.monitoring.paired import challenger_status

    return next(iter(challenger_status(folder).values()), {})


def shadow_lines(rows: dict, medians: dict, counts: dict) -> list[str]:
    """The shadow target: `model+shadow` keeps >= 90% of `model`'s req/s (same rounds)."""
    if not ("model+shadow" in rows and "model" in rows):
        return []
    ratios = paired_ratios(rows, "model+shadow", "model", "rps_16")
    ratio = statistics.median(ratios)
    shadow, plain = medians["model+shadow"], medians["model"]
    ok = "x" if ratio >= 0.9 and shadow["errors"] == 0 else " "
    return [
        f"- [{ok}] a shadow model on 100% of requests keeps >= 90% of the champion-only req/s"
        f" at 16 connections: `model+shadow` {shadow['rps_16']:.0f} vs `model`"
        f" {plain['rps_16']:.0f} req/s, {ratio:.1%} (median of the rounds; per round: "
        + ", ".join(f"{r:.0%}" for r in ratios)
        + f"); server CPU per request {shadow['cpu_us_per_request']:.0f} vs "
        f"{plain['cpu_us_per_request']:.0f} µs; the shadows scored {counts.get('scored', 0):,}"
        f" records, dropped {counts.get('dropped', 0):,} (queue full), "
        f"{counts.get('errors', 0):,} errors, {counts.get('timeouts', 0):,} timeouts",
        "",
    ]


def paired_ratios(rows: dict, model_name: str, noop_name: str, key: str) -> list[float]:
    """Per round: the model's figure over the no-op's, both measured in the same minutes."""
    noop = {r["round"]: r[key] for r in rows[noop_name]}
    return [r[key] / noop[r["round"]] for r in rows[model_name] if noop.get(r["round"])]


def render(info: dict, medians: dict, rows: dict, baseline: dict, args, record: dict) -> str:
    """The markdown report: machine, command, median figures, ratios, targets."""
    lines = [
        "## Serving",
        "",
        "Written by `make bench-serve` (benchmarks/serving.py); rerun it to refresh.",
        "",
        f"- command: `python benchmarks/serving.py {' '.join(sys.argv[1:])}`".rstrip() + "",
        f"- machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"BentoML {info['bentoml']}, onnxruntime {info['onnxruntime']}",
        f"- CPU pinning: {info['pinning']} (`--no-pin` turns it off)",
        f"- load generator: {info['loadgen']}, on the same machine; 1-minute load average "
        f"{info['load_before']:.2f} before, {info['load_after']:.2f} after (other work on "
        "the machine lowers absolute figures; ratios within one run are what count)",
        f"- {args.rounds} rounds; each starts a fresh process of every variant, then loads them"
        f" in turn with {args.bursts} bursts of {args.seconds:g} s at 16 connections each"
        " (order reversed every other burst; one server loaded at a time, the others idle) and"
        f" one {args.seconds:g} s sequential run; medians over rounds; 1 worker and access log"
        " off unless the variant says otherwise",
        f"- request: one record per request, `POST /predict`: `{json.dumps(record)}`",
        "",
        "Variants: `model` is the packaged bento exactly as `make serve` runs it; `noop` the same"
        " server, request checks, request log and response shape with the model replaced by a"
        " constant answer (benchmarks/noop_service.py); `+2workers` sets `TABML_WORKERS=2`"
        " (two BentoML workers);"
        " `batchable` the model behind adaptive batching (max batch 256, max latency 1 s);"
        " `+accesslog` turns BentoML's access log on (`TABML_ACCESS_LOG=1`);"
        " `-requestlog` turns the request log off (`TABML_REQUEST_LOG=0`; every other"
        " variant logs each scored input, as `make serve` does);"
        " `model+explain` is `model` asked for an explanation of every answer"
        ' (`"explain": true`);'
        " `model+shadow` is `model` with the same packaged model as a shadow scoring every"
        " request off the answer's path (`make serve SHADOW=...:1`);"
        " `model-from-source` (not in the default set) serves `tabml.service` from src/.",
        "",
        "| variant | req/s, 16 connections | server CPU µs/request | errors "
        "| sequential p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in medians.items():
        lines.append(
            f"| {name} | {m['rps_16']:.0f} | {m['cpu_us_per_request']:.0f} "
            f"| {m['errors']:.0f} | {m['p50_ms_seq']:.2f} | {m['p99_ms_seq']:.2f} |"
        )
    lines += [
        "",
        "In-process, one record per call (no HTTP): scikit-learn `predict_proba` (`predict` "
        "for a regressor) on a one-row "
        f"DataFrame {baseline['sklearn_us']:.0f} µs ({1e6 / baseline['sklearn_us']:.0f}/s); "
        f"ONNX scorer (feeds + onnxruntime + warnings) {baseline['onnx_us']:.0f} µs "
        f"({1e6 / baseline['onnx_us']:.0f}/s).",
        "",
    ]
    pairs = [
        ("model", "noop"),
        ("model-requestlog", "noop-requestlog"),
        ("model+2workers", "noop+2workers"),
    ]
    for model_name, noop_name in pairs:
        if not (model_name in rows and noop_name in rows):
            continue
        model = medians[model_name]
        ratios = paired_ratios(rows, model_name, noop_name, "rps_16")
        ratio = statistics.median(ratios)
        pooled = sum(r["requests_16"] for r in rows[model_name]) / max(
            sum(r["requests_16"] for r in rows[noop_name]), 1
        )
        cpu_ratio = statistics.median(
            1 / x for x in paired_ratios(rows, model_name, noop_name, "cpu_us_per_request")
        )
        checks = [
            (">= 1,000 req/s at 16 connections", model["rps_16"] >= 1000),
            ("zero errors", model["errors"] == 0),
            (f">= 90% of the no-op server ({ratio:.1%}, median of the rounds)", ratio >= 0.9),
            ("sequential median <= 2 ms", model["p50_ms_seq"] <= 2.0),
        ]
        lines += [f"Targets, `{model_name}` against `{noop_name}`:", ""]
        lines += [f"- [{'x' if ok else ' '}] {text}" for text, ok in checks]
        lines += [
            "",
            f"Per round, `{model_name}` req/s over `{noop_name}`'s: "
            + ", ".join(f"{r:.0%}" for r in ratios)
            + f"; all requests of the run: {pooled:.0%}; CPU per request, the no-op's over"
            f" the model's (median of the rounds): {cpu_ratio:.0%}.",
            "",
        ]
    if BASELINE in rows and "model" in rows:
        ratios = paired_ratios(rows, "model", BASELINE, "rps_16")
        ratio = statistics.median(ratios)
        lines += [
            f"- [{'x' if ratio >= 0.95 else ' '}] `model` >= 95% of `{BASELINE}` (the bento of "
            f"`--baseline`): {ratio:.1%}, median of the rounds (per round: "
            + ", ".join(f"{r:.0%}" for r in ratios)
            + ")",
            "",
        ]
    logged, unlogged = medians.get("model"), medians.get("model-requestlog")
    if logged and unlogged:
        lines += [
            f"Request log cost (`model` vs `model-requestlog`): "
            f"{logged['rps_16'] / unlogged['rps_16']:.0%} of the throughput without it, "
            f"server CPU per request {logged['cpu_us_per_request']:.0f} vs "
            f"{unlogged['cpu_us_per_request']:.0f} µs.",
            "",
        ]
    feedback = info.get("feedback")
    if feedback:
        ok = "x" if feedback["labels_per_s"] >= 1000 and feedback["errors"] == 0 else " "
        lines += [
            f"- [{ok}] `POST /feedback` takes >= 1,000 labels/s at 16 connections with 0 errors:"
            f" {feedback['labels_per_s']:,.0f} labels/s ({FEEDBACK_LABELS} labels per request,"
            f" {feedback['rps']:.0f} req/s, {feedback['errors']} errors, p50"
            f" {feedback['p50_ms']:.2f} ms)",
            "",
        ]
    explained, plain = medians.get("model+explain"), medians.get("model")
    if explained and plain:
        extra = explained["p50_ms_seq"] - plain["p50_ms_seq"]
        ok = "x" if extra <= 1.0 else " "
        lines += [
            f"- [{ok}] explaining a one-record request costs <= 1 ms more at the sequential"
            f" median: {explained['p50_ms_seq']:.2f} vs {plain['p50_ms_seq']:.2f} ms"
            f" ({extra:+.2f} ms)",
            "",
        ]
    lines += shadow_lines(rows, medians, info.get("shadow") or {})
    lines += ["All rounds (req/s of each burst in `bursts_rps`):", "", "```"]
    lines += [json.dumps(r) for runs in rows.values() for r in runs]
    lines += ["```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
