"""Hermetic workspaces for tests: the template's committed profiles and the code's defaults.

A workspace made here never reads the checkout's `params.yaml`, data, models or reports, so a
user's own dataset in the checkout changes no test result. It holds copies of the git-tracked
profiles in `configs/` and of the Makefile (or of every tracked file but `params.yaml` and
`data/`), `params.yaml` (the code defaults plus the caller's overrides) and a link to the
checkout's `src/` (the code under test). `run_stages` runs DVC stages in it the way DVC
would, minus DVC: each stage's entry point with the workspace as its working directory.
"""

import contextlib
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from testkit import ROOT, git

# The pipeline's stages in dvc.yaml order (`source` runs only for a repository CSV).
PIPELINE = ("ingest", "features", "validate", "split", "tune", "train", "evaluate", "package")
# BentoML fixes its model store the first time it is used in a process: the package stage
# runs in a child process, as DVC runs it, so each workspace packages into its own store.
CHILD_PROCESS_STAGES = {"package"}


class StageFailed(AssertionError):
    """A stage run in a child process exited non-zero; its output is the message."""

    def __init__(self, stage: str, result: subprocess.CompletedProcess):
        self.stage, self.returncode = stage, result.returncode
        self.output = result.stdout + result.stderr
        super().__init__(f"stage {stage} exited {result.returncode}\n{self.output}")


def default_params(**overrides) -> dict:
    """The code's default params (equal to the template's params.yaml), with dotted overrides:
    `default_params(**{"train.model": "random_forest"})`."""
    from tabml.params import Params

    params = Params().model_dump(mode="json", by_alias=True)
    for dotted, value in overrides.items():
        *parents, key = dotted.split(".")
        section = params
        for name in parents:
            section = section.setdefault(name, {})
        section[key] = value
    return params


def write_params(workspace: Path, **overrides) -> Path:
    """Write `params.yaml` of `workspace`: the defaults with `overrides` (dotted keys)."""
    path = Path(workspace) / "params.yaml"
    path.write_text(yaml.safe_dump(default_params(**overrides), sort_keys=False))
    return path


def template_workspace(dest: Path, everything: bool = False, **overrides) -> Path:
    """A workspace of the template as shipped: its committed profiles and Makefile
    (`everything`: all its git-tracked files but `params.yaml` and `data/`), the code defaults
    as params.yaml (plus `overrides`, dotted keys) and a link to the checkout's `src/`."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    chosen = [] if everything else ["configs", "Makefile"]
    for name in git("ls-files", "-z", *chosen, cwd=ROOT).split("\0"):
        if not name or name == "params.yaml" or name.startswith(("data/", "src/")):
            continue
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, dest / name)
    if not (dest / "src").exists():
        (dest / "src").symlink_to(ROOT / "src", target_is_directory=True)
    write_params(dest, **overrides)
    return dest


@contextlib.contextmanager
def _inside(workspace: Path):
    """Working directory `workspace` and an environment restored afterwards (stages set
    variables such as BENTOML_HOME for themselves)."""
    environ = dict(os.environ)
    try:
        with contextlib.chdir(workspace):
            yield
    finally:
        os.environ.clear()
        os.environ.update(environ)


def run_stages(workspace: Path, *names: str) -> None:
    """Run the named stages (default: the whole pipeline) in `workspace`, in order.

    Each stage's `main()` runs in this process (a user error raises its `TabmlError`), except
    the package stage, which runs as `python -m tabml.stages.package` (raises `StageFailed`).
    """
    for name in names or PIPELINE:
        if name in CHILD_PROCESS_STAGES:
            _run_child(workspace, name)
            continue
        module = importlib.import_module(f"tabml.stages.{name}")
        with _inside(workspace):
            module.main()


def _run_child(workspace: Path, name: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(workspace) / "src"), "PYTHONHASHSEED": "0"}
    env.update(BENTOML_DO_NOT_TRACK="True", DVC_NO_ANALYTICS="1")
    result = subprocess.run(
        [sys.executable, "-m", f"tabml.stages.{name}"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        raise StageFailed(name, result)
