"""Rebuild one commit with one lock file: a temporary git worktree, that lock's environment,
`dvc repro --force --no-run-cache`, the CPU-kernel probe and the test split's answers.

The worktree shares the workspace's DVC cache, so the recorded outputs (when the cache or a
remote has them) and the reproduced ones can be compared object by object afterwards. Forcing
every stage and skipping DVC's run cache makes each stage really run: nothing is restored
from an earlier run.
"""

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tabml.errors import TabmlError
from tabml.reproduce import kernel
from tabml.reproduce.answers import Answers, AnswersError, score_test_split
from tabml.reproduce.envs import Environment, environment
from tabml.reproduce.outputs import cache_object, lock_outputs
from tabml.tools import dvc, git, temporary_worktree

# Variables that would send the rebuilt pipeline elsewhere (another venv, a Dask cluster):
# results do not depend on them, but a reproduction should run alone and in process.
DROPPED = ("VIRTUAL_ENV", "PYTHONHOME", "TABML_DASK_WORKERS", "DASK_SCHEDULER_ADDRESS")
STAGE_LINE = re.compile(r"^Running stage '([^']+)'")
TAIL = 20  # lines of the pipeline's output quoted when it fails

Say = Callable[[str], None]


class RebuildError(TabmlError, RuntimeError):
    """The version could not be rebuilt (its data, its pipeline or its scoring failed)."""


@dataclass
class Rebuilt:
    lock: str  # the dvc.lock `dvc repro` wrote
    answers: Answers
    machine: dict[str, str]  # kernel.probe() in the version's environment
    env: Environment
    seconds: float  # the pipeline alone
    recorded_answers: Answers | None = None  # the recorded outputs, scored the same way
    notes: list[str] = field(default_factory=list)  # e.g. the recorded outputs not fetched


def tool_env(env: Environment, tree: Path) -> dict[str, str]:
    """The Makefile's settings, with the version's environment and code first."""
    variables = {k: v for k, v in os.environ.items() if k not in DROPPED}
    variables.update(
        PATH=f"{env.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(env.path),
        PYTHONPATH=str(tree / "src"),
        DVC_NO_ANALYTICS="1",
        PYTHONHASHSEED="0",
        BENTOML_DO_NOT_TRACK="True",
        BENTOML_HOME=str(tree / "bentoml_home"),
    )
    return variables


def fetch_recorded(root: Path, tree: Path) -> str | None:
    """Fetch the worktree's (recorded) outputs from the workspace's default DVC remote.

    They are where the per-output diffs are read from; without them a moved output is still
    named, only not described. The remote is the workspace's (an older commit may predate
    it), written into the worktree's local config. Returns a note when outputs are missing.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            name = repo.config["core"].get("remote")
            if not name:
                return None
            remote = dict(repo.config["remote"][name])
        with Repo(str(tree)) as repo:
            with repo.config.edit("local") as local:
                local["remote"][name] = remote
                local["core"]["remote"] = name
            repo.fetch()
    except DvcException as err:
        return f"the recorded outputs could not all be fetched from DVC remote {name!r}: {err}"
    cache = Path(dvc(["cache", "dir"], tree).strip())
    outs = lock_outputs((tree / "dvc.lock").read_text())
    missing = [o.path for o in outs if cache_object(cache, o.md5) is None]
    if missing:
        return (
            f"{len(missing)} of {len(outs)} recorded outputs are neither in the DVC cache nor on "
            f"remote {name!r} (e.g. {missing[0]}): a moved one cannot be described "
            "(`dvc push --all-tags` where they are; docs/reproduction.md)"
        )
    return None


def probe_kernel(env: Environment, variables: dict[str, str], tree: Path) -> dict[str, str]:
    """kernel.probe() run by the version's Python with the version's `tabml` package."""
    script = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
    cmd = [env.python, "-c", script, kernel.__file__]
    result = subprocess.run(cmd, cwd=tree, env=variables, capture_output=True, text=True)
    if result.returncode != 0:
        return {"kernel": f"unknown ({result.stderr.strip()[-200:]})", "coretype": "", "python": ""}
    return json.loads(result.stdout)


def _run_logged(cmd: list[str], tree: Path, variables: dict, log: Path, say: Say) -> None:
    """Run `cmd`, appending its output to `log` and naming each stage as it starts."""
    lines: list[str] = []
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        proc = subprocess.Popen(cmd, cwd=tree, env=variables, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            lines.append(line.rstrip())
            if match := STAGE_LINE.match(line):
                say(f"    stage {match.group(1)}")
        code = proc.wait()
    if code != 0:
        stage = next((m.group(1) for m in map(STAGE_LINE.match, reversed(lines)) if m), None)
        where = f" in stage {stage!r}" if stage else ""
        tail = "\n".join(lines[-TAIL:])
        raise RebuildError(f"`{' '.join(cmd[1:])}` failed{where} (exit {code}; log {log}):\n{tail}")


def _tracked_data(tree: Path) -> list[str]:
    """Data added with `dvc add` (.dvc files): restored from the cache, never rebuilt."""
    return [f for f in git(["ls-files", "*.dvc"], tree).split() if f]


def _recorded_answers(env: Environment, tree: Path, variables: dict) -> Answers | None:
    """The recorded outputs (the commit's dvc.lock, from the cache) scored the same way."""
    git(["checkout", "--quiet", "HEAD", "--", "dvc.lock"], tree)
    restored = subprocess.run([str(env.bin / "dvc"), "checkout", "--force", "--quiet"],
                              cwd=tree, env=variables, capture_output=True)  # fmt: skip
    if restored.returncode != 0:
        return None  # not in the cache: the record's digest is all there is
    try:
        return score_test_split(env.python, tree, variables)
    except AnswersError:
        return None


def rebuild(
    root: Path,
    commit: str,
    lock_text: str,
    log: Path,
    say: Say,
    score_recorded: Callable[[str, Answers], bool] = lambda lock, answers: False,
    envs: Path | None = None,
) -> Rebuilt:
    """Rebuild `commit` with `lock_text`'s environment; optionally score the recorded outputs.

    `score_recorded(reproduced_lock, answers)` says whether the recorded outputs should be
    scored too (only worth it when something moved). `envs`: where the environment is built
    (default: the cache of environments).
    """
    env = environment(lock_text, root, envs)
    say(f"    environment {env.key}: {env.built} ({env.seconds:.0f} s)")
    log.parent.mkdir(parents=True, exist_ok=True)
    with temporary_worktree(root, commit, prefix="tabml-reproduce-") as tree:
        notes = [note] if (note := fetch_recorded(root, tree)) else []
        variables = tool_env(env, tree)
        machine = probe_kernel(env, variables, tree)
        dvc_cmd = str(env.bin / "dvc")
        data = _tracked_data(tree)
        if data:
            _run_logged([dvc_cmd, "checkout", *data], tree, variables, log, say)
        start = time.perf_counter()
        _run_logged([dvc_cmd, "repro", "--force", "--no-run-cache"], tree, variables, log, say)
        seconds = time.perf_counter() - start
        lock = (tree / "dvc.lock").read_text()
        answers = score_test_split(env.python, tree, variables)
        recorded = None
        if score_recorded(lock, answers):
            recorded = _recorded_answers(env, tree, variables)
    return Rebuilt(lock, answers, machine, env, seconds, recorded, notes)
