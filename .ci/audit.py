"""`make audit`: known vulnerabilities in requirements.lock (pip-audit), offline-friendly.

Fails (exit 1) only when a locked version has a known vulnerability. When the vulnerability
source cannot be reached, or answers for none of the locked packages, it says SKIPPED and
exits 0, so that CI without network still runs. Nothing is installed: pip-audit reads the
hashed, pinned lock as it is (`--disable-pip --require-hashes`).

    python .ci/audit.py [--requirement requirements.lock] [--service pypi|osv] [--osv-url URL]
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

PYPI_PROBE = "https://pypi.org/pypi/pip/json"
OSV_URL = "https://api.osv.dev/v1/query"


def reachable(url: str, timeout: float = 10.0) -> str | None:
    """None if `url` answers at all (any HTTP status), else why it cannot be reached."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError:
        return None  # it answered: the service is there
    except (urllib.error.URLError, OSError) as err:
        return str(getattr(err, "reason", err))
    return None


def verdict(report: dict) -> tuple[int, list[str]]:
    """Exit code and lines for pip-audit's JSON report: 1 only for a known vulnerability."""
    packages = report.get("dependencies", [])
    vulnerable = [p for p in packages if p.get("vulns")]
    skipped = [p for p in packages if "skip_reason" in p]
    audited = len(packages) - len(skipped)
    if vulnerable:
        lines = []
        for package in vulnerable:
            for vuln in package["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
                lines.append(f"  {package['name']} {package['version']}: {vuln['id']} "
                             f"(fixed in {fixed})")  # fmt: skip
        count = sum(len(p["vulns"]) for p in vulnerable)
        return 1, [*lines, f"audit: FAILED: {count} known vulnerabilities in "
                           f"{len(vulnerable)} of {len(packages)} locked packages"]  # fmt: skip
    if audited == 0:
        example = skipped[0]["skip_reason"] if skipped else "the lock lists no packages"
        return 0, [
            f"audit: SKIPPED: the vulnerability source answered for none of the "
            f"{len(packages)} locked packages (e.g. {example}); nothing was audited"
        ]
    lines = [f"audit: ok: {audited} locked packages audited, no known vulnerabilities"]
    if skipped:
        names = ", ".join(p["name"] for p in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        lines.append(f"audit: {len(skipped)} could not be audited (not on the vulnerability "
                     f"source): {names}{more}")  # fmt: skip
    return 0, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirement", type=Path, default=Path("requirements.lock"))
    parser.add_argument("--service", choices=("pypi", "osv"), default="pypi")
    parser.add_argument("--osv-url", default=OSV_URL)
    args = parser.parse_args()
    source = PYPI_PROBE if args.service == "pypi" else args.osv_url
    why = reachable(source)
    if why is not None:
        print(f"audit: SKIPPED: the vulnerability source {source} is unreachable ({why}); "
              f"{args.requirement} was not audited")  # fmt: skip
        return 0
    tool = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or "pip-audit"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        cmd = [tool, "--requirement", str(args.requirement), "--require-hashes", "--disable-pip",
               "--progress-spinner", "off", "--format", "json", "--output", str(out),
               "--vulnerability-service", args.service]  # fmt: skip
        if args.service == "osv":
            cmd += ["--osv-url", args.osv_url]
        result = subprocess.run(cmd, capture_output=True, text=True)
        report = json.loads(out.read_text()) if out.is_file() and out.stat().st_size else None
    if report is None:  # pip-audit stopped before a report (e.g. the network went away)
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"audit: SKIPPED: pip-audit could not finish ({last[:300]}); "
              f"{args.requirement} was not audited")  # fmt: skip
        return 0
    code, lines = verdict(report)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
