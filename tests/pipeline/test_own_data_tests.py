"""The template's own tests pass in a project that holds another dataset.

A copy of the repository bootstraps a generated table (an imbalanced yes/no target, a date,
missing values, a row id, numbers and categories), points params.yaml at it as bootstrap says,
runs `make repro`, then `make test-quick` and `make test` there: the hermetic tests do not see
the new data, and the dataset-aware checks (tests/workspace/) run on it.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from testkit import make_cmd, run

pytestmark = pytest.mark.slow  # a pipeline and the two default tiers in a copy

CSV = "data/external/churn.csv"


def churn(rows: int = 600) -> pd.DataFrame:
    """Customers who leave: more often with a low income, a short tenure or the basic plan."""
    rng = np.random.default_rng(7)
    income = rng.normal(50_000, 15_000, rows).round(2)
    tenure = rng.integers(1, 120, rows)
    plan = rng.choice(["basic", "plus", "family"], rows, p=[0.5, 0.3, 0.2])
    score = -2.0 - (income - 50_000) / 12_000 - (tenure - 60) / 30 + 1.5 * (plan == "basic")
    churned = np.where(rng.random(rows) < 1 / (1 + np.exp(-score)), "yes", "no")
    days = rng.integers(0, 3 * 365, rows)
    frame = pd.DataFrame({
        "customer_id": np.arange(10_000, 10_000 + rows),
        "signup": (pd.Timestamp("2021-01-01") + pd.to_timedelta(days, "D")).strftime("%Y-%m-%d"),
        "income": income,
        "tenure_months": tenure.astype(float),
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "plan": plan,
        "churned": churned,
    })  # fmt: skip
    frame.loc[rng.random(rows) < 0.05, "income"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "region"] = np.nan
    return frame


def make(repo: Path, *args: str, **kwargs):
    return run(make_cmd(*args), repo, check=False, **kwargs)


def test_the_quick_and_default_tiers_pass_on_another_dataset(repo_copy_factory):
    repo = repo_copy_factory("own-data-tests")
    table = churn()
    assert (table["churned"] == "yes").mean() < 0.4  # imbalanced
    (repo / CSV).parent.mkdir(parents=True)
    table.to_csv(repo / CSV, index=False)
    printed = make(repo, "bootstrap", f"CSV={CSV}", "NAME=churn", "TARGET_COLUMN=churned")
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "date features (1): signup" in printed.stdout
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["profile"], params["sources"] = "churn", [CSV]  # what bootstrap's hint says
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "add", "-A"], repo)
    repro = make(repo, "repro")
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    assert (repo / "models/tabml_service.bento").is_file()

    quick = make(repo, "test-quick", timeout=900)
    assert quick.returncode == 0, quick.stdout[-6000:] + quick.stderr[-3000:]
    assert re.search(r"\d+ passed", quick.stdout) and " failed" not in quick.stdout

    default = make(repo, "test", timeout=3000)
    assert default.returncode == 0, default.stdout[-6000:] + default.stderr[-3000:]
    # the dataset-aware checks ran on the churn data: none skipped, none failed
    [checks] = [line for line in default.stdout.splitlines()
                if line.startswith("tests/workspace/test_dataset.py ")]  # fmt: skip
    assert re.fullmatch(r"tests/workspace/test_dataset.py \.{5}\s+\[\s*\d+%\]", checks), checks
    assert "tests/workspace" not in "".join(
        line for line in default.stdout.splitlines() if line.startswith("SKIPPED")
    )
    print(default.stdout.splitlines()[-1], file=sys.stderr)  # the tier's own summary
