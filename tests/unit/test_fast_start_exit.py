"""The collector tweaks that make stage processes and the `dvc` command start and exit faster."""

import atexit
import gc
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tabml import dvc_exit

ROOT = Path(__file__).resolve().parents[2]
PTH = "tabml_dvc_exit.pth"


def _python(code: str, **env: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.split()


@pytest.mark.integration  # fresh interpreters
def test_stage_import_under_python_m_pauses_the_collector_until_run():
    # `python -m tabml.stages.x` imports tabml.stages while sys.argv[0] is "-m".
    code = (
        "import sys; sys.argv[:1] = ['-m']; import gc, tabml.stages as st; "
        "print(gc.isenabled(), gc.get_freeze_count()); "
        "st.run(lambda: print(gc.isenabled(), gc.get_freeze_count() > 0)); "
        "print(gc.get_freeze_count() > 0)"
    )
    before_enabled, frozen_before, during_enabled, frozen_during, frozen_after = _python(code)
    assert (before_enabled, frozen_before) == ("False", "0")
    assert (during_enabled, frozen_during, frozen_after) == ("True", "True", "True")


@pytest.mark.integration  # fresh interpreters
def test_importing_a_stage_module_any_other_way_leaves_the_collector_alone():
    assert _python("import gc, tabml.stages.ingest; print(gc.isenabled())") == ["True"]


@pytest.mark.integration  # fresh interpreters
def test_a_failing_stage_still_exits_1_with_one_line(tmp_path):
    # run() still turns known errors into one line; here params.yaml is missing.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "tabml.stages.ingest"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1


def test_install_registers_gc_freeze_unless_turned_off(monkeypatch):
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setenv("TABML_DVC_FAST_EXIT", "0")
    assert dvc_exit.install() is False and registered == []
    monkeypatch.delenv("TABML_DVC_FAST_EXIT")
    monkeypatch.setattr(dvc_exit, "_installed", False)
    assert dvc_exit.install() is True and registered == [gc.freeze]
    assert dvc_exit.install() is True and registered == [gc.freeze]  # once, however often called


def _run_as(tmp_path: Path, name: str, **env: str) -> list[str]:
    """Start the venv's Python on a script called `name`, as a console script is started."""
    script = tmp_path / name
    script.write_text(
        "import atexit, sys\nprint('tabml.dvc_exit' in sys.modules, atexit._ncallbacks())\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stderr == ""  # a broken .pth line would print its traceback here
    return out.stdout.split()


@pytest.mark.integration  # fresh interpreters
def test_pth_hook_is_installed_and_acts_only_in_the_dvc_command(tmp_path):
    installed = Path(sysconfig.get_path("purelib")) / PTH
    assert installed.read_text() == (ROOT / "src" / PTH).read_text()  # `make setup` is current
    loaded, hooks = _run_as(tmp_path, "dvc")
    assert loaded == "True"
    assert _run_as(tmp_path, "notdvc")[0] == "False"
    off_loaded, off_hooks = _run_as(tmp_path, "dvc", TABML_DVC_FAST_EXIT="0")
    assert off_loaded == "True" and int(hooks) == int(off_hooks) + 1
