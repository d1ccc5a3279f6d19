"""Every command behind the Makefile, in one Typer app: `python -m tabml.cli --help`.

The commands live in `tabml.cli.lifecycle` (serve, bootstrap, accept-data, batch, drift,
registry), `tabml.cli.monitoring` (feedback, monitor), `tabml.cli.retrain` (harvest,
retrain), `tabml.cli.dashboard` (dashboard), `tabml.cli.edge` (edge, edge-demo) and
`tabml.cli.experiments` (check-queue, sweep, best, report, gate).

Each command is registered with `command()`, which turns a `TabmlError` (anything a user can
cause) into one `error:` line and exit code 1. Heavy imports happen inside the commands so
that `--help` stays fast.
"""

import functools
from collections.abc import Callable

import typer

from tabml.errors import TabmlError, one_line

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def main() -> None:
    """Serving, batch scoring, drift, the model registry, experiments and review."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` on stderr; return the Exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def command(name: str | None = None) -> Callable[[Callable], Callable]:
    """Register a CLI command whose user errors end in one line and exit 1, not a traceback."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (TabmlError, FileNotFoundError) as err:
                raise fail(one_line(err)) from None

        return app.command(name)(wrapper)

    return decorate


# Register the commands.
from tabml.cli import (  # noqa: E402, F401
    dashboard,
    edge,
    experiments,
    lifecycle,
    monitoring,
    reproduce,
    retrain,
)
