"""`make promote PAIRED=1`: promote a version only if, served beside the champion (shadow or
canary), its paired difference on the same labelled requests lies above zero.

Reads `reports/monitor/paired.json` (`make monitor` writes it); the version is found by its
registry name or its packaged model's tag. The metric is the task's first (macro F1 for a
classifier, rmse for a regression model) unless one is named (`PAIRED=accuracy`).
"""

import json
from pathlib import Path

from tabml import paths
from tabml.monitoring.paired_stats import gain_interval
from tabml.registry.versions import RegistryError, version_names

PAIRED_REPORT = paths.MONITOR_DIR / "paired.json"
DEFAULT_METRICS = ("f1_macro", "rmse")  # the first the report has


def _pair_of(report: dict, version: str) -> dict | None:
    """The report's pair of `version`: by the registry name monitor gave it, else by the
    model tag the registry records for it now."""
    now = version_names()
    for pair in report.get("pairs", []):
        names = (pair.get("registry_version") or now.get(pair["challenger"]) or "").split("/")
        if version in names:
            return pair
    return None


def check_paired(version: str, metric: str | None = None, report: Path = PAIRED_REPORT) -> str:
    """Why-not as a RegistryError, else the line that says the paired gate passed."""
    if not report.exists():
        raise RegistryError(
            f"paired gate: no {report}: serve {version} as a shadow or canary "
            "(make serve SHADOW=...), send labels, run make monitor"
        )
    found = json.loads(report.read_text())
    pair = _pair_of(found, version)
    if pair is None:
        raise RegistryError(
            f"paired gate: {version} has no paired comparison with the champion in {report} "
            f"(make serve SHADOW={version}, labels, make monitor)"
        )
    chosen = metric or next(m for m in (*DEFAULT_METRICS, *pair["metrics"]) if m in pair["metrics"])
    if chosen not in pair["metrics"]:
        raise RegistryError(
            f"paired gate: no metric {chosen!r} (have: {', '.join(pair['metrics'])})"
        )
    low, high = gain_interval(pair["metrics"][chosen])
    what = (
        f"{version} vs {found.get('champion_registry_version') or found.get('champion')} on "
        f"{pair['pairs']:,} labelled requests: {chosen} gain interval [{low:+.4f}, {high:+.4f}]"
    )
    if low <= 0:
        raise RegistryError(f"paired gate: {what} does not lie above zero: refusing to promote")
    return f"paired gate passed: {what}"
