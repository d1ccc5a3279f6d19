"""The folds of each trial on Dask workers: the same trials, scores and choice as in process.

Trials stay one at a time (TPE's next proposal depends on the scores so far); the folds of a
trial run in parallel through joblib's Dask backend, and a fold's score does not depend on
the worker that fitted it.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from distributed import get_task_stream

from tabml.engine import open_engine
from tabml.model import tune, tune_cv
from tabml.params import TrainParams, TuneParams

ROOT = Path(__file__).resolve().parents[2]
# Small and quick (6 trials of 4 folds), and some of its trials are pruned after 2 folds: the
# folds a pruned trial had already sent to the workers must not change anything.
SPACE = {
    "logistic_regression": {"C": {"low": 1e-5, "high": 10.0, "log": True}},
    "random_forest": {"n_estimators": {"low": 5, "high": 20}},
}
SMALL = {"n_trials": 6, "folds": 4, "startup_trials": 2, "space": SPACE}
# every file the stage writes (its byte-identity across runs is checked here only)
OUTPUTS = ("models/tuned_params.yaml", "reports/tune/summary.json", "reports/tune/history.json",
           "reports/tune/importance.json", "reports/tune/families.json")  # fmt: skip


def _trials(train, profile, settings: TuneParams) -> list[tuple]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = tune.open_study(optuna.storages.InMemoryStorage(), "dask", settings,
                            tune_cv.task_families(settings, profile))  # fmt: skip
    tune.run_study(study, tune.make_objective(train, profile, TrainParams(), settings), settings)
    return [
        (t.number, t.state, t.params, t.value, t.intermediate_values, t.user_attrs)
        for t in sorted(study.trials, key=lambda t: t.number)
    ]


@pytest.mark.slow  # a Dask cluster
def test_folds_on_two_local_workers_give_the_in_process_trials(train, profile):
    settings = TuneParams(**SMALL)
    in_process = _trials(train, profile, settings)
    with (
        open_engine({"TABML_DASK_WORKERS": "2"}, quiet=True) as engine,
        tune_cv.fold_backend(engine, train),
        get_task_stream(client=engine.client) as stream,
    ):
        on_dask = _trials(train, profile, settings)
    assert any(t[1] == optuna.trial.TrialState.PRUNED for t in in_process)
    assert on_dask == in_process
    ran_on = {task["worker"] for task in stream.data if "fold_score" in task["key"]}
    assert ran_on  # the folds did run on the workers, not in this process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_cluster(port: int) -> list[subprocess.Popen]:
    """`dask scheduler` and two single-threaded `dask worker`s, as a user starts them."""
    dask = str(Path(sys.executable).parent / "dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    address = f"tcp://127.0.0.1:{port}"
    scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    worker = [dask, "worker", address, "--nthreads", "1", "--no-dashboard"]
    started = [subprocess.Popen(scheduler, **quiet)]
    return started + [subprocess.Popen(worker, **quiet) for _ in range(2)]


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(address, timeout=5, set_as_default=False) as client:
                client.wait_for_workers(count, timeout=60)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.slow
def test_the_stage_writes_the_same_bytes_on_every_engine(run_tune_stage, tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    cluster = _start_cluster(port)
    try:
        _wait_for_workers(address, 2)
        # the environment of each run, and the engine line the stage prints for it
        engines = {
            "in process": ({}, "engine: in process"),
            "local1": ({"TABML_DASK_WORKERS": "1"}, "engine: Dask LocalCluster of 1 workers"),
            "local2": ({"TABML_DASK_WORKERS": "2"}, "engine: Dask LocalCluster of 2 workers"),
            "scheduler": (
                {"DASK_SCHEDULER_ADDRESS": address},
                f"engine: Dask scheduler {address} (2 workers)",
            ),
        }
        outputs = {}
        for name, (env, engine_line) in engines.items():
            folder = tmp_path / name.replace(" ", "_")
            result = run_tune_stage(folder, SMALL, env)
            assert result.returncode == 0, result.stderr
            assert engine_line in result.stderr
            outputs[name] = {n: (folder / n).read_bytes() for n in OUTPUTS}
    finally:
        for process in reversed(cluster):
            process.terminate()
            process.wait(timeout=30)
    first = outputs["in process"]
    assert yaml.safe_load(first["reports/tune/summary.json"])["trials"] == SMALL["n_trials"]
    for name, files in outputs.items():
        assert files == first, name
