"""The engine is chosen by environment: in process, a LocalCluster, or an external scheduler."""

import platform
import re

import pytest

from tabml.engine import EngineError, configured, local_workers, open_engine


def test_environment_chooses_the_engine():
    assert configured({}) == "in-process"
    assert configured({"TABML_DASK_WORKERS": "2"}) == "local"
    assert configured({"DASK_SCHEDULER_ADDRESS": "tcp://h:8786", "TABML_DASK_WORKERS": "2"}) == (
        "scheduler"
    )
    assert configured({"DASK_SCHEDULER_ADDRESS": "  "}) == "in-process"


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_bad_worker_count_is_a_clear_error(raw):
    with pytest.raises(EngineError, match="TABML_DASK_WORKERS"):
        local_workers({"TABML_DASK_WORKERS": raw})


def test_in_process_engine_has_no_client(capsys):
    with open_engine({}) as engine:
        assert not engine.distributed
    assert "engine: in process" in capsys.readouterr().err


@pytest.mark.slow  # a Dask cluster
def test_local_cluster_runs_tasks_on_single_threaded_workers(capsys):
    with open_engine({"TABML_DASK_WORKERS": "1"}) as engine:
        assert engine.distributed and engine.workers == 1
        threads = engine.client.nthreads()
        assert list(threads.values()) == [1]
        assert engine.client.submit(sum, [1, 2, 3]).result() == 6
    assert "LocalCluster of 1 workers" in capsys.readouterr().err


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("tabml.engine.CONNECT_TIMEOUT_S", 1)  # a user waits 10 s
    unreachable = {"DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:9"}
    with pytest.raises(EngineError, match="cannot reach the Dask"), open_engine(unreachable):
        pass


class Reported:
    """What `Client.get_versions` reports: the client's packages and each worker's."""

    def __init__(self, client: dict, workers: dict):
        self.versions = {"client": {"packages": client},
                         "workers": {w: {"packages": p} for w, p in workers.items()}}  # fmt: skip

    def get_versions(self, packages):
        return self.versions

    def run(self, function):  # every worker computes as this process does
        return {w: function() for w in self.versions["workers"]}


def test_every_reported_package_must_match_the_clients():
    from tabml.engine import CHECKED_PACKAGES, _check_versions

    assert "scikit-learn" in CHECKED_PACKAGES  # a distribution name: distributed finds it
    mine = {"python": "3.11.7", "numpy": "2.4.6", "scikit-learn": "1.9.1", "lz4": None}
    _check_versions(Reported(mine, {"tcp://a": dict(mine), "tcp://b": dict(mine)}))
    # distributed itself only warns about numpy; a worker's other numpy is refused here
    other = dict(mine, numpy="2.3.0")
    with pytest.raises(EngineError, match=re.escape("tcp://b runs numpy 2.3.0, the client 2.4.6")):
        _check_versions(Reported(mine, {"tcp://a": dict(mine), "tcp://b": other}))


@pytest.mark.slow  # a Dask cluster
def test_a_worker_on_other_blas_kernels_is_refused(tmp_path):
    # Started from a shell without tabml's OPENBLAS_CORETYPE default, on an AVX-512 machine,
    # a worker would fit with other kernels than the client: Sandybridge runs on any x86-64.
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("OpenBLAS kernel names are x86-64's")
    from tabml.engine import blas_kernels
    from testkit.dask_cluster import dask_cluster

    assert blas_kernels() == "Haswell"  # what any process that imports tabml first uses
    with dask_cluster(tmp_path, workers=1, worker_env={"OPENBLAS_CORETYPE": "Sandybridge"}) as (
        address,
        _,
    ):
        message = "computes with OpenBLAS kernels Sandybridge, the client with Haswell"
        with (
            pytest.raises(EngineError, match=message),
            open_engine({"DASK_SCHEDULER_ADDRESS": address}),
        ):
            pass
