"""Throw-away environments built from a lock file with uv, cached by the lock's hash.

`make reproduce` runs a version with its own `requirements.lock`: the exact, hashed versions
it was registered with. Each lock gets one virtual environment under
`.cache/reproduce/envs/<hash>/` (TABML_REPRODUCE_ENVS moves it), created by the uv of the
project's `.venv` with `--require-hashes`. uv installs from its package cache without the
network when it can (`--offline` first), so a warm cache rebuilds an environment offline; only
a lock with packages the cache lacks goes to the index. Versions with the same lock share one
environment; `rm -rf .cache/reproduce` frees the space.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tabml.errors import TabmlError

ENVS_DIR = Path(".cache/reproduce/envs")
ENVS_VARIABLE = "TABML_REPRODUCE_ENVS"
COMPLETE = ".tabml-complete"  # written last: an environment without it is rebuilt


class EnvBuildError(TabmlError, RuntimeError):
    """An environment could not be built from a lock file."""


@dataclass(frozen=True)
class Environment:
    path: Path
    key: str
    built: str  # "cached", "from the package cache (offline)" or "from the index"
    seconds: float

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    @property
    def bin(self) -> Path:
        return self.path / "bin"


def uv() -> str:
    """The uv of the project's environment (make setup installs the pinned version)."""
    local = Path(sys.executable).parent / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        raise EnvBuildError("uv not found: run `make setup` (it installs uv into .venv)")
    return found


def base_python() -> str:
    """The interpreter the project's .venv was made from: every environment uses it."""
    return getattr(sys, "_base_executable", sys.executable)


def env_key(lock_text: str) -> str:
    """The lock's hash plus the Python version: the same lock on another Python differs."""
    tagged = f"{sys.version_info.major}.{sys.version_info.minor}\n{lock_text}"
    return hashlib.sha256(tagged.encode()).hexdigest()[:16]


def envs_dir(root: Path) -> Path:
    # Absolute: the environment's python runs in a worktree, not in `root`.
    return Path(os.environ.get(ENVS_VARIABLE) or root / ENVS_DIR).resolve()


@contextmanager
def _locked(lock_file: Path):
    """Only one process builds a given environment; the others wait and then reuse it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _uv(args: list[str], env_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VIRTUAL_ENV": str(env_path)}
    return subprocess.run([uv(), *args], env=env, capture_output=True, text=True)


def _install(path: Path, lock: Path) -> str:
    """Create the venv and sync it to `lock`: offline first, then from the index."""
    made = _uv(["venv", "--quiet", "--python", base_python(), str(path)], path)
    if made.returncode != 0:
        raise EnvBuildError(f"uv venv {path} failed: {made.stderr.strip()[-1500:]}")
    sync = ["pip", "sync", "--quiet", "--require-hashes", "--compile-bytecode", str(lock)]
    if _uv([*sync, "--offline"], path).returncode == 0:
        return "from the package cache (offline)"
    online = _uv(sync, path)
    if online.returncode != 0:
        raise EnvBuildError(
            f"cannot install {lock.name} (uv pip sync --require-hashes): "
            f"{online.stderr.strip()[-1500:]}"
        )
    return "from the index"


def environment(lock_text: str, root: Path, base: Path | None = None) -> Environment:
    """The environment of `lock_text`, built once and then reused (under `base` if given)."""
    start = time.perf_counter()
    key = env_key(lock_text)
    parent = Path(base).resolve() if base else envs_dir(root)
    path = parent / key
    with _locked(parent / f"{key}.lock"):
        if (path / COMPLETE).exists():
            return Environment(path, key, "cached", time.perf_counter() - start)
        shutil.rmtree(path, ignore_errors=True)  # a build that was killed half-way
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = parent / f"{key}.requirements.lock"
        lock.write_text(lock_text)
        try:
            built = _install(path, lock)
        except EnvBuildError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        (path / COMPLETE).write_text(hashlib.sha256(lock_text.encode()).hexdigest() + "\n")
    return Environment(path, key, built, time.perf_counter() - start)
