"""The canary's report: one row per package (locked, tried, verdict, first differing output),
the diffs under it, and each scratch lock that moved something (to adopt it in a pull
request): `reports/canary/report.{md,json}` and `reports/canary/locks/`."""

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

from tabml import atomic
from tabml.reproduce.canary import CanaryRun
from tabml.reproduce.report import terminal_lines

COMMAND = "make canary"


def markdown(run: CanaryRun) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Dependency canary", "", f"Command: `{COMMAND}`; {when}; {platform.platform()}", ""]
    if run.skipped:
        return "\n".join([*lines, f"SKIPPED: {run.skipped}", ""])
    lines += [
        f"HEAD `{run.commit[:9]}` rebuilt with each direct dependency at its newest release "
        f"(one at a time, then all together), compared with a rebuild on the locked versions. "
        f"Tolerance for answers: {run.tolerance:g} (the package stage's parity tolerance).",
        "",
        "| package | locked | tried | verdict | first differing output, or why |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t.package} | {t.locked} | {t.tried} | {t.verdict} | {t.reason} |"
              for t in run.trials]  # fmt: skip
    if run.baseline is not None:
        lines += ["", "## Baseline (locked versions) vs the committed dvc.lock", "", "```text",
                  *terminal_lines(run.baseline), "```"]  # fmt: skip
    for trial in run.trials:
        if trial.outcome is not None and trial.verdict != "same bytes":
            lines += ["", f"## {trial.package}", "", "```text", *terminal_lines(trial.outcome),
                      "```"]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_report(run: CanaryRun, folder: Path) -> Path:
    """report.md, report.json and locks/<package>.lock; returns the markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_json(folder / "report.json", {
        "command": COMMAND,
        "attention": run.attention,
        **run.model_dump(mode="json", exclude={"trials": {"__all__": {"lock"}}}),
    })  # fmt: skip
    for trial in run.trials:
        if trial.lock and trial.verdict != "current":
            name = re.sub(r"[^A-Za-z0-9.=_-]+", "-", trial.package)
            atomic.write_text(folder / "locks" / f"{name}.requirements.lock", trial.lock)
    return atomic.write_text(folder / "report.md", markdown(run))
