"""Flights profile at 1x, 3x, 10x its rows: full `dvc repro` wall time and peak memory.

The bigger inputs are bench-only: rows resampled (seeded, with replacement) from the real
flights file into a CSV inside the temporary repo copy, with a temporary profile pointing at
it. The product code and configs stay as they are.
"""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.support import measure
from tabml.data.profile import load_profile
from tabml.tables import sha256_of
from testkit import FLIGHTS_GATES, repo_copy

GIB = 2**30
SEED = 0


def scaled_profile(repo: Path, factor: int) -> str:
    """Name of a profile whose raw data is `factor` times the flights rows (1 = the real one)."""
    if factor == 1:
        return "flights"
    raw = pd.read_csv(load_profile("flights", repo / "configs").source.resolve())
    bigger = raw.sample(n=factor * len(raw), replace=True, random_state=SEED)
    return csv_profile(repo, f"flights_x{factor}", bigger)


def sampled_profile(repo: Path, rows: int) -> str:
    """Name of a profile whose raw data is `rows` flights drawn (seeded, without replacement)."""
    raw = pd.read_csv(load_profile("flights", repo / "configs").source.resolve())
    return csv_profile(repo, f"flights_{rows}", raw.sample(n=rows, random_state=SEED))


def csv_profile(repo: Path, name: str, raw: pd.DataFrame) -> str:
    """A copy of the flights profile named `name` that reads `raw` from data/bench/<name>.csv."""
    configs = repo / "configs"
    csv = repo / "data" / "bench" / f"{name}.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    raw.to_csv(csv, index=False)
    profile = load_profile("flights", configs).model_dump(mode="json", exclude_none=True)
    # Relative to the repo (where DVC runs), so that params.yaml `sources` can list it.
    source = str(csv.relative_to(repo))
    profile.update(name=name, source={"path": source, "sha256": sha256_of(csv)})
    (configs / f"{name}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    shutil.copy(configs / "flights.schema.yaml", configs / f"{name}.schema.yaml")
    return name


def stage_seconds(lines: list[tuple[float, str]], total: float) -> dict[str, float]:
    """Per-stage wall time from the timestamps of DVC's `Running stage 'x':` lines."""
    pattern = re.compile(r"Running stage '(\w+)'")
    starts = [(t, m.group(1)) for t, line in lines if (m := pattern.match(line))]
    ends = [t for t, _ in starts[1:]] + [total]
    return {name: end - start for (start, name), end in zip(starts, ends, strict=True)}


def bench_flights(work: Path, factors: list[int]) -> list[dict]:
    """Run the whole pipeline on each row multiple; return one result row per factor."""
    if not factors:
        return []
    repo = repo_copy(work / "flights")
    params = repo / "params.yaml"
    results = []
    for factor in factors:
        name = scaled_profile(repo, factor)
        values = yaml.safe_load(params.read_text())
        values["data"]["profile"] = name
        # A repository CSV is a DVC dependency (the `source` stage); the package file is not.
        values["sources"] = [] if factor == 1 else [f"data/bench/{name}.csv"]
        values["gates"]["min"].update(FLIGHTS_GATES)
        params.write_text(yaml.safe_dump(values, sort_keys=False))
        run = measure(["dvc", "repro"], repo).check(f"dvc repro ({name})")
        metrics = json.loads((repo / "reports" / "metrics.json").read_text())
        validation = json.loads((repo / "reports" / "validation" / "report.json").read_text())
        results.append(
            {
                "factor": factor,
                "rows": validation["rows_read"],
                "seconds": run.seconds,
                "cpu_seconds": run.cpu_seconds,
                "peak_gib": run.peak_rss / GIB,
                "stages": stage_seconds(run.lines, run.seconds),
                "roc_auc": metrics["roc_auc_ovr"],
            }
        )
        print(json.dumps({"flights": results[-1]}), flush=True)
    return results


def render(results: list[dict]) -> list[str]:
    base = results[0]
    stages = list(base["stages"])
    lines = [
        "### Flights profile at scale (`dvc repro`, logistic regression defaults)",
        "",
        "| rows | x rows | wall s | x wall | CPU s | x CPU | peak memory GiB | "
        + " | ".join(f"{s} s" for s in stages)
        + " | test ROC AUC |",
        "|---" * (8 + len(stages)) + "|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['rows'] / base['rows']:.1f} | {r['seconds']:.1f} "
            f"| {r['seconds'] / base['seconds']:.2f} | {r['cpu_seconds']:.1f} "
            f"| {r['cpu_seconds'] / base['cpu_seconds']:.2f} | {r['peak_gib']:.2f} | "
            + " | ".join(f"{r['stages'].get(s, 0):.1f}" for s in stages)
            + f" | {r['roc_auc']:.3f} |"
        )
    lines += [
        "",
        "Stage columns are wall seconds, from the timestamps of DVC's `Running stage` lines. "
        "Peak memory is the largest sum of RSS over `dvc` and its stage processes, sampled "
        "every 50 ms. Targets: the real flights data (first row) within 120 s and 3 GiB; "
        "10x rows within 12x the time. The 3x and 10x inputs are bench-only: rows resampled "
        "with replacement (seed 0) into a CSV with a temporary profile, in the temporary copy.",
    ]
    return lines
