"""Reproduction commands: reproduce (registered versions) and canary (newer dependencies)."""

from pathlib import Path
from typing import Annotated

import typer

from tabml.cli import command, fail


@command()
def reproduce(
    version: Annotated[str | None, typer.Argument(help="a registered version, e.g. v1.0.0")] = None,
    all_versions: Annotated[
        bool, typer.Option("--all", help="every registered version, oldest first")
    ] = False,
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            help="rebuild with this requirement instead of the locked one (e.g. "
            "scikit-learn==1.8.0); the lock is re-resolved around it",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="where report.md/.json go")] = Path("reports/reproduce"),
) -> None:
    """Rebuild registered versions from their own commit and lock file; compare with the registry.

    Exits 0 when every output, the ONNX model and the test split's answers are identical, 3
    when something moved (the diff names it), 1 when a rebuild failed.
    """
    from tabml.reproduce.report import terminal_lines, write_reports
    from tabml.reproduce.reproduction import IDENTICAL, exit_code, reproduce_version
    from tabml.reproduce.versions import find_version, registered_versions

    if all_versions == (version is not None):
        raise fail("usage: reproduce VERSION, or reproduce --all (make reproduce ALL=1)", 2)
    root = Path()
    versions = registered_versions(root) if all_versions else [find_version(version, root)]
    if not versions:
        raise fail("error: no registered versions to reproduce (make register VERSION=v1.0.0)")
    outcomes = []
    for found in versions:
        outcomes.append(reproduce_version(found, root, typer.echo, with_ or [], out))
        for line in terminal_lines(outcomes[-1]):
            typer.echo(line)
    what = "ALL=1" if all_versions else f"VERSION={version}"
    report = write_reports(out, "Reproduction of registered versions", f"make reproduce {what}",
                           outcomes)  # fmt: skip
    code = exit_code(outcomes)
    typer.echo(f"reproduce: {', '.join(f'{o.label} {o.status}' for o in outcomes)} -> {report}")
    if code != IDENTICAL:
        reason = "a rebuild failed" if code == 1 else "outputs or answers moved (diff above)"
        raise fail(f"reproduce: exit {code}: {reason}", code)


@command()
def canary(
    package: Annotated[
        list[str] | None,
        typer.Option(
            "--package",
            "-p",
            help="only this package (repeatable; default: every direct dependency); "
            "NAME==VERSION tries that release instead of the newest",
        ),
    ] = None,
    together: Annotated[
        bool | None,
        typer.Option(help="also all packages at their newest at once (default: without -p)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="where report.md/.json go")] = Path("reports/canary"),
) -> None:
    """Rebuild HEAD with each direct dependency at its newest release; report what would move.

    Exits 0 when every package gives the same bytes (or is already the newest), 3 when one
    moves an output or breaks, 1 when HEAD does not rebuild with its own lock. Without a
    reachable package index: SKIPPED, exit 0.
    """
    from tabml.reproduce.canary import run_canary
    from tabml.reproduce.canary_report import write_report

    run = run_canary(Path(), package or [], not package if together is None else together,
                     typer.echo)  # fmt: skip
    report = write_report(run, out)
    if run.skipped:
        typer.echo(f"canary: SKIPPED: {run.skipped}; nothing was tried")
        return
    for trial in run.trials:
        reason = f": {trial.reason}" if trial.reason else ""
        typer.echo(f"  {trial.package}: {trial.locked} -> {trial.tried}: {trial.verdict}{reason}")
    typer.echo(f"canary: report -> {report}")
    if run.attention:
        moved = [t.package for t in run.trials if t.verdict in ("within tolerance", "broken")]
        raise fail(
            f"canary: exit 3: newer releases change or break the build: {', '.join(moved)}", 3
        )
