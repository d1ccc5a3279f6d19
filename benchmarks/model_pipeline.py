"""Each benchmark table through the template's own-data route, as a user would run it.

In a temporary copy of the repository (testkit.repo_copy): the table's CSV goes to
`data/external/`, `python -m tabml.cli bootstrap` drafts the profile and schema, the review a
user is told to do is applied (columns bootstrap dropped as free text that are real
categories go back in), `params.yaml` points at it (a regression family for a numeric target,
as bootstrap's hint says), and `dvc repro evaluate` runs ingest -> validate -> split -> train
-> evaluate with today's defaults. The split parquet files it leaves are the rows every
system of the benchmark is fitted and scored on; `reports/metrics.json` is today's default.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.model_tables import Table
from benchmarks.support import measure
from tabml.data.profile import DatasetProfile, load_profile
from testkit import git, repo_copy


@dataclass
class PipelineRun:
    """What the pipeline left for one table: its profile, split and today's test metrics."""

    repo: Path
    profile: DatasetProfile
    train: pd.DataFrame
    test: pd.DataFrame
    metrics: dict
    bootstrap: list[str]  # what bootstrap printed
    seconds: float  # wall seconds of `dvc repro evaluate`


def run_pipeline(table: Table, work: Path) -> PipelineRun:
    """Bootstrap the table in a fresh repo copy and run the pipeline up to evaluate."""
    repo = work / table.name
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True)
        repo_copy(repo)
    csv = Path("data/external") / f"{table.name}.csv"
    (repo / csv).parent.mkdir(parents=True, exist_ok=True)
    table.load().to_csv(repo / csv, index=False)
    command = [
        "python",
        "-m",
        "tabml.cli",
        "bootstrap",
        str(csv),
        "--name",
        table.name,
        "--target",
        table.target,
        "--force",  # a throw-away copy: replace a shipped profile of the same name (penguins)
    ]
    printed = measure(command, repo).check(f"bootstrap {table.name}")
    _review(repo / "configs" / f"{table.name}.yaml", table)
    params_file = repo / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["data"]["profile"] = table.name
    params["sources"] = [str(csv)]
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    git("add", "-A", cwd=repo)
    run = measure(["dvc", "repro", "evaluate"], repo).check(f"dvc repro evaluate ({table.name})")
    profile = load_profile(table.name, repo / "configs")
    return PipelineRun(
        repo=repo,
        profile=profile,
        train=pd.read_parquet(repo / "data" / "processed" / "train.parquet"),
        test=pd.read_parquet(repo / "data" / "processed" / "test.parquet"),
        metrics=json.loads((repo / "reports" / "metrics.json").read_text()),
        bootstrap=[line for _, line in printed.lines],
        seconds=run.seconds,
    )


def _review(profile_file: Path, table: Table) -> None:
    """The review bootstrap asks for: real categories it dropped as free text go back in."""
    if not table.force_categorical:
        return
    profile = yaml.safe_load(profile_file.read_text())
    categorical = profile["features"].setdefault("categorical", [])
    categorical += [c for c in table.force_categorical if c not in categorical]
    profile_file.write_text(yaml.safe_dump(profile, sort_keys=False))
