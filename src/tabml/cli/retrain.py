"""Continuous-training commands: harvest (labelled production rows) and retrain."""

from pathlib import Path
from typing import Annotated

import typer

from tabml.cli import command, fail


@command()
def harvest() -> None:
    """Export the labelled production rows to data/production/labelled.parquet (dvc add)."""
    from tabml.params import load_params
    from tabml.retrain.harvest import harvest as run_harvest
    from tabml.serving.feedback import feedback_dir
    from tabml.serving.request_log import log_dir

    done = run_harvest(log_dir(), feedback_dir(), load_params().data.profile)
    for reject in done.rejects[:20]:
        typer.echo(f"  rejected {reject['prediction_id']}: {reject['reason']}")
    typer.echo(done.summary())
    typer.echo(
        f"harvest: to train on them: dvc repro, then git add {done.path}.dvc configs/ dvc.lock "
        "and commit (make retrain does this on a branch and compares first)"
    )


@command()
def retrain(
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-S", help="params.yaml override for the challenger (key=value)"),
    ] = None,
    version: Annotated[str | None, typer.Option(help="version to register")] = None,
    promote: Annotated[bool, typer.Option(help="register + promote a winner")] = True,
    out: Annotated[Path, typer.Option(help="where decision.json/.md go")] = Path("reports/retrain"),
) -> None:
    """Train a challenger on production labels; promote it only if it wins (exit 3: kept)."""
    from tabml.retrain.loop import KEPT, run_retrain
    from tabml.serving.feedback import feedback_dir
    from tabml.serving.request_log import log_dir

    result = run_retrain(
        Path(), log_dir().resolve(), feedback_dir().resolve(), set_ or [], version, promote, out
    )
    for line in result.lines:
        typer.echo(line)
    if result.code == KEPT:
        raise fail("retrain: KEPT the champion (exit code 3): see the reasons above", KEPT)
