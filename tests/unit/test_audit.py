"""`make audit` (.ci/audit.py): fails only on a known vulnerability, says SKIPPED offline.

The vulnerable case runs the real pip-audit against an OSV-format vulnerability source on a
free 127.0.0.1 port (pip-audit's `--osv-url`), so it needs no network.
"""

import importlib.util
import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testkit import ROOT, tool_env

SCRIPT = ROOT / ".ci" / "audit.py"
spec = importlib.util.spec_from_file_location("ci_audit", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

HASH = "--hash=sha256:" + "0" * 64  # pip-audit reads hashes, it does not download the files


class _OsvSource(BaseHTTPRequestHandler):
    """Answers OSV queries: one advisory for `six`, none for anything else."""

    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        vulns = []
        if query["package"]["name"] == "six":
            vulns = [{
                "id": "TEST-2026-0001", "summary": "a test advisory", "details": "test",
                "aliases": [], "affected": [{
                    "package": {"name": "six", "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": "9.0.0"}]}],
                }],
            }]  # fmt: skip
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def osv_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsvSource)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()


def run_audit(requirement, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(SCRIPT), "--requirement", str(requirement), *args]
    return subprocess.run(cmd, cwd=ROOT, env=tool_env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip


@pytest.mark.integration  # the audit script in a child process
def test_a_known_vulnerability_fails_the_audit(tmp_path, osv_url):
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"six==1.16.0 {HASH}\nidna==3.10 {HASH}\n")
    result = run_audit(lock, "--service", "osv", "--osv-url", osv_url)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.rstrip().splitlines()
    assert lines == [
        "  six 1.16.0: TEST-2026-0001 (fixed in 9.0.0)",
        "audit: FAILED: 1 known vulnerabilities in 1 of 2 locked packages",
    ]


@pytest.mark.integration  # the audit script in a child process
def test_no_known_vulnerability_passes(tmp_path, osv_url):
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"idna==3.10 {HASH}\n")
    result = run_audit(lock, "--service", "osv", "--osv-url", osv_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "audit: ok: 1 locked packages audited, no known vulnerabilities"


@pytest.mark.integration  # the audit script in a child process
def test_an_unreachable_source_is_skipped_not_failed(tmp_path):
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1/query"
    result = run_audit(ROOT / "requirements.lock", "--service", "osv", "--osv-url", url)
    assert result.returncode == 0
    assert result.stdout.startswith(f"audit: SKIPPED: the vulnerability source {url} is "
                                    "unreachable")  # fmt: skip
    assert "requirements.lock was not audited" in result.stdout


@pytest.mark.integration  # the audit script in a child process
def test_a_source_that_knows_none_of_the_packages_is_skipped():
    report = {"dependencies": [
        {"name": "a", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "b", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ]}  # fmt: skip
    code, lines = audit.verdict(report)
    assert code == 0 and lines[0].startswith("audit: SKIPPED: the vulnerability source answered "
                                             "for none of the 2")  # fmt: skip


def test_the_lock_pins_the_audit_tool_and_the_security_floors():
    lock = (ROOT / "requirements.lock").read_text()
    assert "\npip-audit==" in lock
    pyproject = (ROOT / "pyproject.toml").read_text()
    for floor in ('"bentoml>=1.4.39"', '"onnx>=1.21"', '"starlette>=', '"python-multipart>='):
        assert floor in pyproject, floor
