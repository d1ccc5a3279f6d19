"""Bootstrap on penguins-raw: dates become numbers, and every dropped column says why."""

import shutil
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.errors import SchemaErrors

from tabml.data.profile import Source, load_profile
from tabml.data.profile_draft import BootstrapOverwriteError, write_profile
from tabml.data.schema import domain_rules, load_schema
from testkit import ROOT, make_cmd, repo_copy, run


@pytest.fixture(scope="module")
def penguins_raw() -> Path:
    return Source(package="palmerpenguins", path="data/penguins-raw.csv").resolve()


@pytest.fixture(scope="module")
def bootstrapped(penguins_raw, tmp_path_factory):
    configs = tmp_path_factory.mktemp("configs")
    csv = configs / "penguins-raw.csv"
    shutil.copy(penguins_raw, csv)
    summary = write_profile(csv, "praw", "Species", configs)
    return configs, summary, pd.read_csv(csv)


def test_the_summary_says_what_was_kept_and_what_was_dropped_and_why(bootstrapped):
    _, summary, _ = bootstrapped
    assert summary.dates == {"Date Egg": {"format": "%Y-%m-%d", "parts": ["year", "day_of_year"]}}
    assert "Date Egg" not in summary.categorical and "Date Egg" not in summary.dropped
    assert summary.categorical == ["studyName", "Island", "Clutch Completion", "Sex"]
    assert "Culmen Length (mm)" in summary.numeric and len(summary.numeric) == 7
    assert summary.dropped == {
        "Species": "the target itself",
        "Region": "constant column (one value or empty): nothing to learn from",
        "Stage": "constant column (one value or empty): nothing to learn from",
        "Individual ID": "free text: 190 distinct values (> 50)",
        "Comments": "free text: a typical value has 6 words",
    }
    lines = summary.lines()
    assert "date features (1): Date Egg -> year, day_of_year (written YYYY-MM-DD)" in lines
    assert "  Individual ID: free text: 190 distinct values (> 50)" in lines


def test_a_column_of_unique_values_is_an_identifier_unless_it_holds_times(tmp_path):
    times = pd.date_range("2024-01-01", periods=30, freq="37min").strftime("%Y-%m-%dT%H:%M:%S")
    frame = pd.DataFrame(
        {"id": [f"r{i}" for i in range(30)], "n": range(30), "at": times, "y": ["a", "b"] * 15}
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    summary = write_profile(tmp_path / "t.csv", "t", "y", tmp_path)
    assert summary.dropped["id"] == "identifier: all 30 values are unique"
    assert summary.dropped["n"] == "identifier: all 30 values are unique"  # a row number
    # unique, but a datetime
    assert summary.dates == {
        "at": {"format": "%Y-%m-%dT%H:%M:%S", "parts": ["year", "day_of_year", "hour"]}
    }


def test_the_profile_declares_the_date_and_its_schema_accepts_any_iso_date(bootstrapped):
    configs, _, frame = bootstrapped
    profile = load_profile("praw", configs)
    assert {c: d.parts for c, d in profile.features.dates.items()} == {
        "Date Egg": ["year", "day_of_year"]
    }
    schema = load_schema(profile, configs)
    later = frame.head(3).assign(**{"Date Egg": ["2031-01-05", "2012-12-31", "2009-11-27"]})
    assert len(schema.validate(later)) == 3  # not an isin list of the observed days
    bad = frame.head(2).assign(**{"Date Egg": ["2009-13-01", "27/11/2009"]})
    with pytest.raises(SchemaErrors) as err:
        schema.validate(bad, lazy=True)
    assert set(err.value.failure_cases["failure_case"]) == {"2009-13-01", "27/11/2009"}
    [rule] = [r for r in domain_rules(profile, schema) if r.kind == "date"]
    assert (rule.name, rule.parts) == ("Date Egg", ("year", "day_of_year"))
    assert isinstance(schema, pa.DataFrameSchema)


@pytest.mark.integration  # the CLI and make as child processes
def test_the_cli_prints_the_summary(penguins_raw, tmp_path):
    (tmp_path / "configs").mkdir()
    shutil.copy(penguins_raw, tmp_path / "raw.csv")
    cmd = [
        "python",
        "-m",
        "tabml.cli",
        "bootstrap",
        "raw.csv",
        "--name",
        "p",
        "--target",
        "Species",
    ]
    out = run(cmd, tmp_path).stdout
    assert "date features (1): Date Egg -> year, day_of_year (written YYYY-MM-DD)" in out
    assert "  Comments: free text: a typical value has 6 words" in out
    assert "`sources: [raw.csv]`" in out


def test_bootstrap_refuses_to_overwrite_a_different_profile_and_says_what_differs(tmp_path):
    """`bootstrap --name penguins` silently replaced the shipped, git-tracked profile."""
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    shipped = {p.name: p.read_bytes() for p in configs.iterdir()}
    csv = Source(package="palmerpenguins", path="data/penguins.csv").resolve()
    with pytest.raises(BootstrapOverwriteError) as err:
        write_profile(csv, "penguins", "species", configs)
    message = str(err.value)
    assert message.startswith(f"{configs / 'penguins.yaml'} exists and differs")
    assert "description" in message and "--force" in message and "FORCE=1" in message
    assert {p.name: p.read_bytes() for p in configs.iterdir()} == shipped  # nothing written
    summary = write_profile(csv, "penguins", "species", configs, force=True)
    assert set(summary.replaced) == {str(configs / "penguins.yaml"),
                                     str(configs / "penguins.schema.yaml")}  # fmt: skip
    assert "description" in summary.replaced[str(configs / "penguins.yaml")]
    assert any(line.startswith("replaced ") for line in summary.lines())


def test_bootstrap_again_on_the_same_file_is_a_no_op(bootstrapped):
    configs, _, _ = bootstrapped
    before = (configs / "praw.yaml").read_bytes()
    summary = write_profile(configs / "penguins-raw.csv", "praw", "Species", configs)
    assert summary.replaced == {} and (configs / "praw.yaml").read_bytes() == before


@pytest.mark.integration  # the CLI and make as child processes
def test_the_cli_refuses_with_one_line_and_make_takes_force(tmp_path):
    repo = repo_copy(tmp_path / "repo")
    csv = Source(package="palmerpenguins", path="data/penguins.csv").resolve()
    shutil.copy(csv, repo / "p.csv")
    cmd = ["python", "-m", "tabml.cli", "bootstrap", "p.csv", "--name", "penguins"]
    refused = run([*cmd, "--target", "species"], repo, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: configs/penguins.yaml exists and differs")
    assert run(["git", "status", "--porcelain", "configs"], repo).stdout == ""
    make = make_cmd("bootstrap", "CSV=p.csv", "NAME=penguins", "TARGET_COLUMN=species", "FORCE=1")
    replaced = run(make, repo)
    assert "replaced configs/penguins.yaml (--force)" in replaced.stdout
