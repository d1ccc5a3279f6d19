"""Your own source file: a changed file stops ingest with how to accept it; accept-data pins it."""

import pytest

from tabml.data.accept import accept_data
from tabml.data.ingest import (
    ChecksumError,
    UntrackedSourceError,
    check_listed,
    check_tracked,
    materialise,
)
from tabml.data.profile import Source, load_profile
from tabml.tables import sha256_of
from testkit import run

PROFILE = """\
# my own data
name: mine
source:
  path: {path}   # the CSV
  sha256: {sha}  # pinned
target: y
features:
  numeric: [x]
"""


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "configs").mkdir()
    csv = tmp_path / "data.csv"
    csv.write_text("x,y\n1,a\n2,b\n")
    profile = tmp_path / "configs" / "mine.yaml"
    profile.write_text(PROFILE.format(path=csv, sha=sha256_of(csv)))
    return tmp_path, csv, profile


def test_an_edited_file_stops_ingest_and_accept_data_pins_it(workspace):
    root, csv, profile_file = workspace
    with csv.open("a") as out:
        out.write("3,a\n")  # a newcomer appends a row
    source = load_profile("mine", root / "configs").source
    with pytest.raises(ChecksumError, match="make accept-data"):
        materialise(source, root / "raw.csv")
    accepted = accept_data("mine", root / "configs")
    assert accepted.changed and accepted.current == sha256_of(csv)
    assert load_profile("mine", root / "configs").source.sha256 == sha256_of(csv)
    text = profile_file.read_text()
    assert "# my own data" in text and "# pinned" in text and "# the CSV" in text
    out = materialise(load_profile("mine", root / "configs").source, root / "raw.csv")
    assert out.read_bytes() == csv.read_bytes()
    assert not accept_data("mine", root / "configs").changed  # a second run changes nothing


def test_accept_data_adds_a_missing_pin(workspace):
    root, csv, profile_file = workspace
    lines = [line for line in profile_file.read_text().splitlines() if "sha256" not in line]
    profile_file.write_text("\n".join(lines) + "\n")
    assert load_profile("mine", root / "configs").source.sha256 is None
    accept_data("mine", root / "configs")
    assert load_profile("mine", root / "configs").source.sha256 == sha256_of(csv)


@pytest.mark.integration  # the CLI in a child process
def test_the_cli_accepts_the_profile_params_yaml_selects(workspace):
    root, csv, _ = workspace
    (root / "params.yaml").write_text("data:\n  profile: mine\n")
    csv.write_text("x,y\n5,b\n6,a\n")
    out = run(["python", "-m", "tabml.cli", "accept-data"], root).stdout
    assert f"now pins sha256 {sha256_of(csv)}" in out


def test_a_repository_source_must_be_listed_in_params_sources(tmp_path):
    local = Source(path="data/external/my.csv")
    with pytest.raises(UntrackedSourceError, match=r"`sources: \[data/external/my.csv\]`"):
        check_tracked(local, [], "configs/my.yaml")
    check_tracked(local, ["./data/external/my.csv"], "configs/my.yaml")  # same file
    check_tracked(Source(package="palmerpenguins", path="data/penguins.csv"), [], "p.yaml")
    with pytest.raises(UntrackedSourceError, match=r"lists other\.csv"):
        check_listed(local, "other.csv", "configs/my.yaml")
