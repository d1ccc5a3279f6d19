"""`make bench-reproduce`: `make reproduce ALL=1` on five registered penguins versions.

In a temporary copy of the repository: the pipeline, then five versions registered from five
commits with different params (the default logistic regression, C=0.5, C=0.25, a random
forest, gradient boosting). Then `make reproduce ALL=1` runs twice: first with an empty cache
of reproduction environments (uv's package cache warm, so the environment is built from it
without the network), then with that environment cached. Target: the first run in at most
10 minutes. Results replace the `reproduce` section of docs/benchmarks.md.
"""

import argparse
import json
import os
import re
import tempfile
from pathlib import Path

from benchmarks.support import Run, bench_env, machine_description, measure, write_section
from tabml.retrain.challenger import set_params
from testkit import make_cmd, repo_copy

TARGET_MINUTES = 10.0
GIT_ID = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
          "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}  # fmt: skip
VERSIONS = [
    ("v1.0.0", []),
    ("v1.1.0", ["train.logistic_regression.C=0.5"]),
    ("v1.2.0", ["train.logistic_regression.C=0.25"]),
    ("v2.0.0", ["train.model=random_forest"]),
    ("v3.0.0", ["train.model=gradient_boosting"]),
]
ENV_LINE = re.compile(r"environment (\w+): (.+) \((\d+) s\)$")


def register_versions(repo: Path, env: dict) -> None:
    """Five commits with different params, each reproduced and registered."""
    measure(["dvc", "repro", "--quiet"], repo, env).check("dvc repro")
    for version, changes in VERSIONS:
        if changes:
            set_params(repo / "params.yaml", changes)
            measure(["dvc", "repro", "--quiet"], repo, env).check(f"dvc repro ({version})")
            measure(["git", "commit", "-qam", f"{version}: {changes}"], repo, env).check("commit")
        measure(make_cmd("register", f"VERSION={version}"), repo, env).check(f"register {version}")


def summary(run: Run, repo: Path) -> dict:
    outcomes = json.loads((repo / "reports/reproduce/report.json").read_text())["outcomes"]
    builds = [m.groups() for _, line in run.lines if (m := ENV_LINE.search(line))]
    return {
        "minutes": run.seconds / 60,
        "cpu_minutes": run.cpu_seconds / 60,
        "returncode": run.returncode,
        "versions": [(o["label"], o["status"], o["seconds"]) for o in outcomes],
        "env_builds": [(key, how, int(s)) for key, how, s in builds if how != "cached"],
    }


def render(cold: dict, warm: dict, load: tuple) -> str:
    met = cold["minutes"] <= TARGET_MINUTES and cold["returncode"] == 0
    rows = [
        f"| {label} | {status} | {seconds:.0f} | {warm_s:.0f} |"
        for (label, status, seconds), (_, _, warm_s) in zip(cold["versions"], warm["versions"])
    ]
    builds = "; ".join(f"{key}: {how}, {s} s" for key, how, s in cold["env_builds"]) or "none"
    return "\n".join([
        "## Reproduction",
        "",
        *machine_description(load),
        "",
        "Command: `make bench-reproduce` (`python -m benchmarks.reproduce`): five penguins "
        "versions registered from five commits (logistic regression with C = 1, 0.5, 0.25, a "
        "random forest, gradient boosting; one requirements.lock), then `make reproduce ALL=1` "
        "twice in the same copy: with an empty cache of environments (uv's package cache warm) "
        "and again with the environment cached.",
        "",
        f"- empty environment cache: **{cold['minutes']:.1f} min** wall "
        f"({cold['cpu_minutes']:.1f} min CPU), exit {cold['returncode']}; target <= "
        f"{TARGET_MINUTES:.0f} min: {'met' if met else '**not met**'}",
        f"- environment built: {builds}",
        f"- environment cached: {warm['minutes']:.1f} min wall ({warm['cpu_minutes']:.1f} min "
        f"CPU), exit {warm['returncode']}",
        "",
        "| version | result | seconds (first run, incl. the environment build for v1.0.0) | "
        "seconds (cached environment) |",
        "|---|---|---|---|",
        *rows,
        "",
        "Each version is a full `dvc repro --force --no-run-cache` in a temporary git worktree "
        "plus scoring its test split twice at most; versions sharing a lock file share one "
        "environment, so the environment is built once.",
    ]) + "\n"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tabml-bench-reproduce-") as tmp:
        work = Path(tmp)
        repo = repo_copy(work / "repo")
        env = {**bench_env(repo), **GIT_ID, "TABML_REPRODUCE_ENVS": str(work / "envs")}
        register_versions(repo, env)
        load = os.getloadavg()
        cold = summary(measure(make_cmd("reproduce", "ALL=1"), repo, env), repo)
        warm = summary(measure(make_cmd("reproduce", "ALL=1"), repo, env), repo)
    text = render(cold, warm, load)
    print(text)
    if not args.no_write:
        write_section("reproduce", text)


if __name__ == "__main__":
    main()
