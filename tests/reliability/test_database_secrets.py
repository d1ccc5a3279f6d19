"""A database URL's password never shows: not in `make batch` / `make monitor`'s echo, not in
their success or error lines, not in the monitor's report files. And URLs batch scoring
cannot use are one line: another database, a typo, an in-memory SQLite.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tabml.batch.database_url import DatabaseUrlError, check_url, scrub, shown
from testkit import make_cmd, tool_env

pytestmark = pytest.mark.integration  # make and the CLI as child processes

SECRET = "S3cr%40t-pw"  # URL-encoded: `S3cr@t-pw` is what a driver may quote
UNREACHABLE = f"postgresql://scorer:{SECRET}@127.0.0.1:1/predictions"


def _secret_free(*texts: str) -> bool:
    return not any(s in t for t in texts for s in (SECRET, "S3cr@t-pw", "S3cr"))


def test_urls_are_shown_and_scrubbed_without_their_password():
    assert shown(UNREACHABLE) == "postgresql://scorer:***@127.0.0.1:1/predictions"
    assert shown("postgresql://u@/db?host=/s&password=pw&sslmode=x") == (
        "postgresql://u@/db?host=/s&password=***&sslmode=x"
    )
    message = f"database {UNREACHABLE}: FATAL: password S3cr@t-pw was refused"
    assert _secret_free(scrub(message, UNREACHABLE))
    assert "scorer:***@127.0.0.1" in scrub(message, UNREACHABLE)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"mysql://scorer:{SECRET}@127.0.0.1/db", "SQLite or PostgreSQL, not mysql"),
        ("mssql+pyodbc://x", "SQLite or PostgreSQL, not mssql"),
        ("sqlite:///:memory:", "in-memory SQLite database keeps nothing"),
        ("sqlite://", "in-memory SQLite database keeps nothing"),
        ("predictions.db", "not a database URL"),
    ],
)
def test_urls_batch_scoring_cannot_use_are_one_line(url, says):
    with pytest.raises(DatabaseUrlError, match=says) as err:
        check_url(url)
    assert "\n" not in str(err.value) and _secret_free(str(err.value))


def _cli(packaged: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**tool_env(packaged), **env}
    return subprocess.run([sys.executable, "-m", "tabml.cli", *args], cwd=packaged,
                          env=environ, capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture
def inputs(tmp_path, raw_penguins) -> Path:
    source = tmp_path / "in.csv"
    raw_penguins.head(50).to_csv(source, index=False)
    return source


def test_mysql_and_memory_urls_are_one_line_from_the_cli(packaged, inputs):
    for url in (f"mysql://scorer:{SECRET}@127.0.0.1/db", "sqlite:///:memory:"):
        result = _cli(packaged, "batch", str(inputs), "--db", url)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
        assert _secret_free(result.stderr)


def test_no_password_in_batch_and_monitor_lines_or_reports(packaged, inputs, tmp_path,
                                                           postgres_url):  # fmt: skip
    # An unreachable server: the driver's error, as one line, without the password.
    failed = _cli(packaged, "batch", str(inputs), "--db", UNREACHABLE)
    assert failed.returncode == 1 and "scorer:***@127.0.0.1:1" in failed.stderr
    assert _secret_free(failed.stdout, failed.stderr)
    # A real server (it trusts local users, so any password is accepted), given in TABML_DB.
    url = postgres_url.replace("postgresql://postgres:@", f"postgresql://postgres:{SECRET}@")
    assert SECRET in url
    scored = _cli(packaged, "batch", str(inputs), TABML_DB=url)
    assert scored.returncode == 0, scored.stderr
    assert "50 predictions" in scored.stdout and "***" in scored.stdout
    assert _secret_free(scored.stdout, scored.stderr)
    out = tmp_path / "monitor"
    logs = {"TABML_REQUEST_LOG_DIR": str(tmp_path / "none"), "TABML_FEEDBACK_LOG_DIR":
            str(tmp_path / "fb")}  # fmt: skip
    monitored = _cli(packaged, "monitor", "--out", str(out), "--db", url, **logs)
    assert monitored.returncode in (0, 3), monitored.stderr
    assert _secret_free(monitored.stdout, monitored.stderr)
    assert _secret_free(*(f.read_text() for f in out.iterdir()))
    unreachable = _cli(packaged, "monitor", "--out", str(out), TABML_DB=UNREACHABLE, **logs)
    assert unreachable.returncode == 1 and _secret_free(unreachable.stderr)


@pytest.mark.parametrize("target", ["batch", "monitor"])
def test_make_never_echoes_the_url(packaged, inputs, tmp_path, target):
    args = [target, f"DB={UNREACHABLE}"] + ([f"INPUT={inputs}"] if target == "batch" else [])
    env = {**tool_env(packaged), "TABML_REQUEST_LOG_DIR": str(tmp_path / "none")}
    result = subprocess.run(make_cmd(*args), cwd=packaged, env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode != 0  # the server is unreachable
    assert "python -m tabml.cli " + target in result.stdout  # the command is still echoed
    assert _secret_free(result.stdout, result.stderr)
