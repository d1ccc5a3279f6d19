"""The README's commands, run as typed in a fresh copy, in the environment a new user has.

Every ```bash block of README.md runs, in order, in one bash session (so the README's own
`source .venv/bin/activate` is what puts the tools on PATH), except:
- blocks after a `<!-- readme-test: skip (reason) -->` line (another test runs them, or they
  take minutes), and `make test` itself (this test is part of it);
- a block after `<!-- readme-test: background -->` is a server: it starts in the background
  and the next blocks run once it answers.
The environment is the caller's minus any virtualenv: no `.venv/bin` on PATH, no VIRTUAL_ENV.
The copy's `.venv` is a link to this checkout's, which `make test` has just set up, so the
README's `make repro` finds it installed instead of building a second one.
"""

import os
import re
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from testkit import ROOT, VENV_BIN, repo_copy
from tests.service.server import free_port

BLOCK = re.compile(r"(?:<!-- readme-test: (?P<mark>\w+)[^>]*-->\n)?```bash\n(?P<body>.*?)```", re.S)
NOT_RUN = re.compile(r"^make test\b")
README_PORT = 3000  # what the README's `make serve` and `curl` lines use
SERVER_WAIT = """
for _ in $(seq 1 120); do
  curl -sf -o /dev/null http://127.0.0.1:{port}/readyz && break
  sleep 0.5
done
"""


def readme_script(readme: str, port: int = README_PORT) -> str:
    """The README's runnable blocks as one bash script, its server on `port`."""
    parts = ["set -euo pipefail"]
    for match in BLOCK.finditer(readme):
        if match["mark"] == "skip":
            continue
        lines = [line for line in match["body"].splitlines() if not NOT_RUN.match(line)]
        body = "\n".join(lines)
        if match["mark"] == "background":
            # its own process group, so that the server's workers stop with it, pass or fail
            parts += [f"setsid bash -c '{body.strip()}' > server.log 2>&1 &", "SERVER=$!"]
            parts += ["trap 'kill -- -\"$SERVER\" 2>/dev/null || true' EXIT"]
            parts.append(SERVER_WAIT.format(port=README_PORT))
        else:
            parts.append(body)
    script = "\n".join(parts) + "\n"
    # The README's port may be taken on this machine: the same commands on a free one.
    for before in (f"PORT={README_PORT}", f"127.0.0.1:{README_PORT}"):
        script = script.replace(before, before.replace(str(README_PORT), str(port)))
    return script


def user_env() -> dict[str, str]:
    """The caller's environment as a new user has it: no virtualenv active."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if not p.rstrip("/").endswith("/bin")
            or not Path(p, "activate").exists()]  # fmt: skip
    env["PATH"] = os.pathsep.join(path)
    env.update(GIT_AUTHOR_NAME="new user", GIT_AUTHOR_EMAIL="user@localhost")
    env.update(GIT_COMMITTER_NAME="new user", GIT_COMMITTER_EMAIL="user@localhost")
    return env


def _processes_left(repo: Path, timeout: float) -> str:
    """Processes still running from `repo`, once none is left or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = subprocess.run(["pgrep", "-f", str(repo)], capture_output=True, text=True).stdout
        if not left.strip() or time.monotonic() > deadline:
            return left.strip()
        time.sleep(0.2)


def test_the_script_covers_the_readme():
    script = readme_script((ROOT / "README.md").read_text())
    expected = ["make repro", "source .venv/bin/activate", "dvc exp run", "make serve"]
    expected += ["curl -s http://127.0.0.1:3000/predict", "make batch", "make register"]
    for command in expected:
        assert command in script
    assert "make test" not in script


@pytest.mark.slow  # the README's whole script in a fresh copy
def test_readme_commands_work_as_typed_in_a_fresh_copy(tmp_path):
    installed = VENV_BIN.parent / ".installed"
    newest_input = max((ROOT / f).stat().st_mtime for f in ("requirements.lock", "pyproject.toml"))
    if not installed.exists() or installed.stat().st_mtime < newest_input:
        pytest.fail("run `make setup` first: this test reuses the checkout's .venv")
    repo = repo_copy(tmp_path / "clone")
    (repo / ".venv").symlink_to(VENV_BIN.parent)
    port = free_port()
    script = readme_script((repo / "README.md").read_text(), port)
    assert f"make serve PORT={port}" in script and f"127.0.0.1:{port}/predict" in script
    (repo / "readme.sh").write_text(script)
    result = subprocess.run(
        ["bash", "readme.sh"], cwd=repo, env=user_env(), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    server_log = (repo / "server.log").read_text() if (repo / "server.log").exists() else ""
    assert result.returncode == 0, textwrap.dedent(f"""
        README commands failed (exit {result.returncode})
        --- stdout (tail) ---
        {result.stdout[-4000:]}
        --- stderr (tail) ---
        {result.stderr[-4000:]}
        --- server.log (tail) ---
        {server_log[-2000:]}""")
    # the server's process group was sent SIGTERM at the script's exit: it stops by itself
    left = _processes_left(repo, timeout=30)
    assert not left, f"processes of the README's server are still running: {left}"
    out = result.stdout
    assert '"probabilities"' in out  # the curl answer
    assert "registered model@v2.0.0" in out and "rolled back to v1.0.0" in out
    assert re.search(r"batch \w+: \d+ predictions", out)
    assert "drift: 104 rows" in out
