"""The engine is chosen by environment: in process, a LocalCluster, or an external scheduler."""

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
