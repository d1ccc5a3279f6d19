"""Scratch lock files: a commit's lock re-resolved with some packages moved (`uv pip compile`
with the same options as `make lock`), and a quick check that the package index answers.

`scikit-learn` moves that package to its newest release the other pins allow;
`scikit-learn==1.8.0` (any specifier) moves it there. Every other pin stays unless the move
forces it (uv keeps the existing lock's versions as preferences).
"""

import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

from tabml.errors import TabmlError
from tabml.reproduce.envs import uv

DEFAULT_INDEX = "https://pypi.org/simple/"
INDEX_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
OPERATOR = re.compile(r"[=<>!~@;]")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


class ResolveError(TabmlError, RuntimeError):
    """A lock could not be re-resolved with the requested change."""


def canonical(name: str) -> str:
    """PEP 503 name: `Scikit_Learn` and `scikit-learn` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = NAME.match(spec)
    if not match:
        raise ResolveError(f"{spec!r} is not a requirement (e.g. scikit-learn or numpy==2.3.0)")
    return canonical(match.group(1))


def direct_dependencies(pyproject_text: str) -> list[str]:
    """The runtime dependencies pyproject.toml declares, by canonical name."""
    declared = tomllib.loads(pyproject_text).get("project", {}).get("dependencies", [])
    return list(dict.fromkeys(requirement_name(spec) for spec in declared))


def pins(lock_text: str) -> dict[str, str]:
    """name -> pinned version(s) of a lock file (a package pinned per marker lists each)."""
    found: dict[str, list[str]] = {}
    for name, version in PIN.findall(lock_text):
        found.setdefault(canonical(name), []).append(version)
    return {name: ", ".join(dict.fromkeys(versions)) for name, versions in found.items()}


def pin_changes(before: str, after: str) -> str:
    """`scikit-learn 1.9.1 -> 1.8.0, narwhals 2.29.0 -> (removed)`: the pins that moved."""
    old, new = pins(before), pins(after)
    names = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    moved = [f"{n} {old.get(n, '(new)')} -> {new.get(n, '(removed)')}" for n in names]
    return ", ".join(moved)


def index_url() -> str:
    for variable in INDEX_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable]
    return DEFAULT_INDEX


def index_unreachable(timeout: float = 5.0) -> str | None:
    """None if the package index answers at all, else why not (fails fast without a network)."""
    url = index_url()
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError:
        return None  # it answered
    except (urllib.error.URLError, OSError, ValueError) as err:
        return f"{url}: {getattr(err, 'reason', err)}"
    return None


def resolve(
    pyproject_text: str, lock_text: str, changes: list[str], upgrade_all: bool = False
) -> str:
    """`lock_text` re-resolved with `changes` moved (or every package, with `upgrade_all`)."""
    with tempfile.TemporaryDirectory(prefix="tabml-resolve-") as tmp:
        folder = Path(tmp)
        (folder / "pyproject.toml").write_text(pyproject_text)
        (folder / "requirements.lock").write_text(lock_text)  # the pins uv keeps where it can
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        cmd = [uv(), "pip", "compile", "pyproject.toml", "--extra", "dev", "--generate-hashes",
               "--universal", "--python-version", python, "-o", "requirements.lock", "--quiet",
               "--no-header"]  # fmt: skip
        constraints = [spec for spec in changes if OPERATOR.search(spec)]
        for spec in changes:
            cmd += ["--upgrade-package", requirement_name(spec)]
        if constraints:
            (folder / "constraints.txt").write_text("\n".join(constraints) + "\n")
            cmd += ["--constraints", "constraints.txt"]
        if upgrade_all:
            cmd.append("--upgrade")
        # A requested version may come from uv's cache (offline); "the newest" needs the index.
        exact = bool(changes) and len(constraints) == len(changes) and not upgrade_all
        attempts = [[*cmd, "--offline"], cmd] if exact else [cmd]
        for attempt in attempts:
            result = subprocess.run(attempt, cwd=folder, capture_output=True, text=True)
            if result.returncode == 0:
                break
        if result.returncode != 0:
            said = result.stderr.strip()[-1500:]
            raise ResolveError(
                f"cannot resolve {', '.join(changes) or 'the newest releases'}: {said}"
            )
        return (folder / "requirements.lock").read_text()
