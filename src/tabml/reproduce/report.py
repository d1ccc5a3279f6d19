"""Outcomes as readable lines (terminal, markdown) and as JSON, one format for reproduce and
the canary: what moved, by how much, in which stage, and the first output that moved."""

import platform
from datetime import UTC, datetime
from pathlib import Path

from tabml import atomic
from tabml.reproduce.compare import Outcome


def headline(outcome: Outcome) -> str:
    status = outcome.status.upper()
    if outcome.status == "failed":
        first = (outcome.error or "").splitlines()[0] if outcome.error else ""
        return f"{outcome.label}: {status}: {first}"
    where = ""
    if outcome.first_moved is not None:
        first = outcome.first_moved
        where = f" (first moved output: {first.path}, stage {first.stage})"
    return f"{outcome.label}: {status}{where} [{outcome.seconds:.0f} s]"


def detail_lines(outcome: Outcome) -> list[str]:
    """The diff under the headline: notes, moved outputs by stage, answers."""
    lines = [f"  note: {note}" for note in outcome.notes]
    if outcome.status == "failed":
        rest = (outcome.error or "").splitlines()[1:]
        return lines + [f"  | {line}" for line in rest]
    if outcome.moved:
        width = max(len(m.path) for m in outcome.moved)
        stage_width = max(len(m.stage) for m in outcome.moved)
        lines.append(f"  moved outputs ({len(outcome.moved)}):")
        lines += [
            f"    {m.stage:<{stage_width}}  {m.path:<{width}}  {m.detail}" for m in outcome.moved
        ]
    else:
        lines.append("  outputs: every DVC output hash identical")
    lines.append(f"  answers on the test split: {outcome.answers}")
    lines.append(f"  kernel: {outcome.kernel}; environment {outcome.environment}")
    return lines


def terminal_lines(outcome: Outcome) -> list[str]:
    return [headline(outcome), *detail_lines(outcome)]


def markdown(title: str, command: str, outcomes: list[Outcome], preamble: list[str]) -> str:
    rows = [
        "| what | commit | result | first moved output (stage) | answers | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        first = f"`{o.first_moved.path}` ({o.first_moved.stage})" if o.first_moved else ""
        answers = (
            (o.answers or o.error or "").splitlines()[0][:100] if (o.answers or o.error) else ""
        )
        rows.append(f"| {o.label} | `{o.commit[:9]}` | {o.status} | {first} | {answers} | "
                    f"{o.seconds:.0f} |")  # fmt: skip
    sections = []
    for o in outcomes:
        body = "\n".join(detail_lines(o))
        sections.append(f"### {o.label}\n\n```text\n{headline(o)}\n{body}\n```")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [f"# {title}", "", f"Command: `{command}`; {when}; {platform.platform()}", ""]
    return "\n".join([*head, *preamble, *rows, "", *sections]) + "\n"


def write_reports(folder: Path, title: str, command: str, outcomes: list[Outcome],
                  preamble: list[str] | None = None) -> Path:  # fmt: skip
    """`report.md` and `report.json` in `folder`; returns the markdown's path."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_json(folder / "report.json", {
        "command": command,
        "outcomes": [o.model_dump(mode="json") for o in outcomes],
    })  # fmt: skip
    text = markdown(title, command, outcomes, [*(preamble or []), ""] if preamble else [])
    return atomic.write_text(folder / "report.md", text)
