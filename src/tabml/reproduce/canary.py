"""`make canary`: would the newest release of a direct dependency change what the pipeline makes?

HEAD is rebuilt once with its own lock (the baseline: it must reproduce `dvc.lock`), then once
per direct dependency of pyproject.toml with only that package moved to its newest release
(the lock re-resolved around it), then with every package at its newest together. Each run is
compared with the baseline: every DVC output's hash and the answers on the test split.

- same bytes: every output and answer identical;
- within tolerance: outputs moved, but the pipeline (with its ONNX parity check) passed and
  the answers agree within the package stage's parity tolerance, labels unchanged;
- broken: it does not resolve, install or run, or the answers moved beyond tolerance;
- current: the lock already holds the newest release (nothing to run).
Without a reachable package index it says SKIPPED and exits 0.
"""

import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tabml.errors import TabmlError
from tabml.reproduce.compare import Outcome, Reference, judge
from tabml.reproduce.rebuild import rebuild
from tabml.reproduce.report import headline
from tabml.reproduce.reproduction import reproduce_against
from tabml.reproduce.resolve import (
    ResolveError,
    direct_dependencies,
    index_unreachable,
    pin_changes,
    pins,
    requirement_name,
    resolve,
)
from tabml.tools import dvc, git

REPORT_DIR = Path("reports/canary")
TOGETHER = "all together"
Verdict = Literal["same bytes", "within tolerance", "broken", "current"]
ATTENTION: set[str] = {"within tolerance", "broken"}


class CanaryError(TabmlError, RuntimeError):
    """The canary could not run (HEAD does not rebuild with its own lock)."""


class Trial(BaseModel):
    package: str
    locked: str
    tried: str
    verdict: Verdict
    reason: str = ""
    lock: str = ""  # the scratch lock file, for a pull request that adopts it
    outcome: Outcome | None = None


class CanaryRun(BaseModel):
    skipped: str | None = None
    commit: str = ""
    baseline: Outcome | None = None
    tolerance: float = 0.0
    trials: list[Trial] = []

    @property
    def attention(self) -> bool:
        return any(t.verdict in ATTENTION for t in self.trials)


def tolerance(root: Path, answers_scale: float) -> float:
    """The package stage's parity tolerance: absolute for probabilities, relative for values."""
    from tabml.data.profile import load_profile
    from tabml.packaging.tasks import packaging_task
    from tabml.params import load_params

    params = load_params(root / "params.yaml")
    profile = load_profile(params.data.profile, root / "configs")
    return packaging_task(profile).answers_tolerance(params, answers_scale)


def verdict(outcome: Outcome, limit: float) -> tuple[Verdict, str]:
    if outcome.status == "failed":
        return "broken", (outcome.error or "").splitlines()[0]
    first = outcome.first_moved
    where = f"first differing output: {first.path} (stage {first.stage})" if first else ""
    if outcome.status == "identical":
        return "same bytes", ""
    diff = outcome.answers_diff
    if diff is not None and diff.within(limit):
        return "within tolerance", f"{where}; answers {diff.summary()}".strip("; ")
    answers = diff.summary() if diff is not None else outcome.answers
    return "broken", f"answers beyond tolerance {limit:g}: {answers}; {where}".strip("; ")


def _baseline(root: Path, commit: str, requirements: str, say) -> tuple[Reference, Outcome]:
    """Rebuild HEAD with its own lock; the reference every trial is compared with."""
    recorded = Reference(
        label="baseline (locked)",
        commit=commit,
        lock=git(["show", f"{commit}:dvc.lock"], root),
        requirements_sha256=hashlib.sha256(requirements.encode()).hexdigest(),
    )
    say(f"canary: baseline, HEAD ({commit[:9]}) with its own requirements.lock")
    log = root / REPORT_DIR / "baseline.log"
    log.unlink(missing_ok=True)
    try:
        rebuilt = rebuild(root, commit, requirements, log, say)
    except TabmlError as err:
        raise CanaryError(f"HEAD does not rebuild with its own lock, so nothing can be "
                          f"compared: {err}") from err  # fmt: skip
    outcome = judge(recorded, rebuilt, Path(dvc(["cache", "dir"], root).strip()))
    reference = recorded.model_copy(update={"lock": rebuilt.lock, "answers": rebuilt.answers})
    return reference, outcome


def _try(spec: str, requirements: str, pyproject: str, reference: Reference, root: Path,
         say: Callable[[str], None], limit: float) -> Trial:  # fmt: skip
    """One trial: `spec` (a package, `package==version`, or TOGETHER) against the baseline."""
    together = spec == TOGETHER
    name = spec if together else requirement_name(spec)
    locked = "locked" if together else pins(requirements).get(name, "not locked")
    try:
        scratch = resolve(pyproject, requirements, [] if together else [spec], together)
    except ResolveError as err:
        return Trial(package=spec, locked=locked, tried="?", verdict="broken", reason=str(err))
    moved = pin_changes(requirements, scratch)
    tried = moved if together else pins(scratch).get(name, "?")
    if not moved:
        return Trial(package=spec, locked=locked, tried=locked, verdict="current")
    say(f"canary: {spec}: {moved}")
    log = root / REPORT_DIR / f"{re.sub(r'[^A-Za-z0-9.=_-]+', '-', spec)}.log"
    log.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="tabml-canary-env-") as envs:  # scratch: not kept
        trial_reference = reference.model_copy(update={"label": spec})
        outcome = reproduce_against(trial_reference, scratch, root, log, say, Path(envs))
    found, reason = verdict(outcome, limit)
    return Trial(package=spec, locked=locked, tried=tried, verdict=found, reason=reason,
                 lock=scratch, outcome=outcome)  # fmt: skip


def run_canary(
    root: Path, packages: list[str], together: bool, say: Callable[[str], None]
) -> CanaryRun:
    """Baseline, then each package (all direct dependencies if none given), then together."""
    unreachable = index_unreachable()
    if unreachable:
        return CanaryRun(skipped=f"the package index is unreachable ({unreachable})")
    commit = git(["rev-parse", "HEAD"], root).strip()
    requirements = git(["show", f"{commit}:requirements.lock"], root)
    pyproject = git(["show", f"{commit}:pyproject.toml"], root)
    reference, baseline = _baseline(root, commit, requirements, say)
    say(f"canary: {headline(baseline)} (against the committed dvc.lock)")
    scale = max((abs(v) for row in reference.answers.rows for v in row
                 if isinstance(v, float)), default=1.0)  # fmt: skip
    limit = tolerance(root, scale)
    names = packages or direct_dependencies(pyproject)
    trials = []
    for name in [*names, *([TOGETHER] if together else [])]:
        trials.append(_try(name, requirements, pyproject, reference, root, say, limit))
        say(f"canary: {name}: {trials[-1].verdict} {trials[-1].reason}".rstrip())
    return CanaryRun(commit=commit, baseline=baseline, tolerance=limit, trials=trials)
