"""Two weeks in a model's life, played in a reproduced repo copy with the real commands.

v1.0.0 (logistic regression, C=1.0) is registered and promoted; it serves penguins for
eight days, the last six with bills 12 mm longer than any in training, and every
prediction gets its true label: `make monitor` alerts. `make retrain` then trains v1.1.0 on
the labelled production rows, which wins and is promoted. v1.1.0 serves the shifted
population for six more days (one day without traffic); the last two days' labels have not
arrived. Then `monitor` (daily windows), `drift`, a review of v1.1.0 against v1.0.0, and
the dashboard.

The predictions are scored by the packaged model of each version (the shipped runtime, in
process) and written with the request log's own writer, stamped with the simulated time.
GTO stamps its tags with the clock, so each registry step's new tags are re-made with git
at the simulated time (same name, commit and message). Everything else runs as a user runs
it (`make register/promote/retrain`, `python -m tabml.cli ...`).
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from testkit import make_cmd, run, tool_env

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday, 00:00 UTC
SHIFT_MM = 12.0
PER_DAY = 120
C = "1.0"  # as the retrain test: a model the shift breaks and a retrain can fix


def when(day: float) -> str:
    return (START + timedelta(days=day)).isoformat()


def env(repo: Path, day: float | None = None) -> dict[str, str]:
    """The Makefile's environment, logs in the repo, git's clock at `day` (tag dates)."""
    found = {
        **tool_env(repo),
        "GIT_AUTHOR_NAME": "ml team",
        "GIT_AUTHOR_EMAIL": "ml@team",
        "GIT_COMMITTER_NAME": "ml team",
        "GIT_COMMITTER_EMAIL": "ml@team",
        "TABML_REQUEST_LOG_DIR": str(repo / "logs/requests"),
        "TABML_FEEDBACK_LOG_DIR": str(repo / "logs/feedback"),
    }
    if day is not None:
        found["GIT_COMMITTER_DATE"] = found["GIT_AUTHOR_DATE"] = when(day)
    return found


def make(repo: Path, *args: str, day: float | None = None, check: bool = True):
    """`make ARGS`; registry tags it creates are dated `day` (simulated time)."""
    before = set(run(["git", "tag"], repo).stdout.split())
    result = run(make_cmd(*args), repo, check=check, env=env(repo, day))
    for tag in sorted(set(run(["git", "tag"], repo).stdout.split()) - before):
        message = run(["git", "tag", "-l", "--format=%(contents)", tag], repo).stdout
        commit = run(["git", "rev-list", "-n", "1", tag], repo).stdout.strip()
        run(
            ["git", "tag", "-f", "-a", tag, commit, "-m", message.rstrip("\n")],
            repo,
            env=env(repo, day),
        )
    return result


def cli(repo: Path, *args: str, day: float | None = None):
    return run(["python", "-m", "tabml.cli", *args], repo, check=False, env=env(repo, day))


def serve_days(repo: Path, days: list[int], shifted_from: int, labelled_until: int, seed: int):
    """Predictions of the workspace's packaged model for `days` (PER_DAY penguins a day,
    bills shifted from day `shifted_from`), logged at their simulated times; true labels
    for the days before `labelled_until`."""
    from tabml import paths
    from tabml.scoring.model import load_packaged
    from tabml.scoring.prediction_ids import new_ids
    from tabml.serving.feedback import write_labels
    from tabml.serving.request_log import make_record, write_batch

    model = load_packaged(repo / paths.ONNX_MODEL, repo / paths.BENTO_ARCHIVE)
    features = [r.name for r in model.rules]
    raw = pd.read_csv(repo / paths.RAW_DATA).dropna(subset=["bill_length_mm"])
    rng = np.random.default_rng(seed)
    labels = []
    for day in days:
        frame = raw.sample(n=PER_DAY, replace=True, random_state=int(rng.integers(2**31)))
        frame = frame.reset_index(drop=True)
        if day >= shifted_from:
            frame["bill_length_mm"] = frame["bill_length_mm"] + SHIFT_MM
        # every row is scored, as served: the shifted bills stay inside the domain rules
        predicted, proba = model.predict(model.inputs(frame))
        ids = new_ids(len(frame))
        seconds = np.sort(rng.uniform(0, 86_400, len(frame)))
        inputs = frame[features].astype(object).where(frame[features].notna(), None)
        records = []
        for i, row in enumerate(inputs.to_dict("records")):
            answer = {
                "prediction_id": ids[i],
                "species": predicted[i],
                "probabilities": dict(zip(model.task.classes, proba[i].tolist())),
            }
            stamp = START + timedelta(days=day, seconds=float(seconds[i]))
            records.append(
                make_record(row, model.version, stamp, answer, "species", model.task.logged)
            )
        write_batch(records, repo / "logs/requests", day)
        if day < labelled_until:
            labels += list(zip(ids, frame["species"].astype(str), strict=True))
    write_labels(labels, "file:labels.csv", repo / "logs/feedback")
    return model.version


def live(repo: Path) -> dict:
    """Play the two weeks in `repo` (a reproduced, committed copy); return what happened."""
    params = repo / "params.yaml"
    text = re.sub(r"(?m)^  model: \S+", "  model: logistic_regression", params.read_text(), count=1)
    params.write_text(re.sub(r"(?m)^    C: \S+", f"    C: {C}", text, count=1))
    run(["dvc", "repro", "--quiet"], repo, env=env(repo))
    run(["git", "commit", "-qam", f"logistic regression C={C}"], repo, env=env(repo, -1))
    make(repo, "register", "VERSION=v1.0.0", day=-0.5)
    make(repo, "promote", "VERSION=v1.0.0", "STAGE=prod", day=-0.4)
    v1 = serve_days(repo, list(range(8)), shifted_from=2, labelled_until=8, seed=1)
    alert = cli(repo, "monitor", "--window", "1d", day=7.98)
    retrain = make(repo, "retrain", day=7.99, check=False)
    assert retrain.returncode == 0, retrain.stdout + retrain.stderr
    # Day 10 has no traffic: the dashboard's lines must break there, not join over it.
    v2 = serve_days(repo, [8, 9, 11, 12, 13], shifted_from=0, labelled_until=12, seed=2)
    monitor = cli(repo, "monitor", "--window", "1d")
    drift = cli(repo, "drift", "--no-fail-on-drift")
    review = cli(repo, "report", "--base", "HEAD~1", "--no-reproduce")
    return {
        "v1": v1,
        "v2": v2,
        "alert": alert,
        "monitor": monitor,
        "drift": drift,
        "review": review,
    }
