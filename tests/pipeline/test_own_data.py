"""The README's "Use your own data" steps, run as written on another tabular CSV."""

import json
import math
import sys
from pathlib import Path

import yaml
from sklearn.datasets import load_wine

from testkit import run

TOOLS = Path(sys.executable).parent


def make(repo: Path, *args: str):
    # this interpreter's .venv; `-o` keeps make from (re)installing one in the copy
    cmd = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={TOOLS}", *args]
    return run(cmd, repo, check=False)


def test_readme_steps_work_on_the_wine_data(repo_copy_factory):
    repo = repo_copy_factory("own-data")
    # 1. a CSV inside the repository
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    wine["cultivar"] = wine["cultivar"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    (repo / "data" / "external").mkdir(parents=True)
    wine.to_csv(repo / "data" / "external" / "wine.csv", index=False)
    # 2. bootstrap profile + schema
    cmd = ["python", "-m", "tabml.cli", "bootstrap", "data/external/wine.csv"]
    run([*cmd, "--name", "wine", "--target", "cultivar"], repo)
    profile = yaml.safe_load((repo / "configs" / "wine.yaml").read_text())
    assert profile["target"] == "cultivar" and len(profile["features"]["numeric"]) == 13
    # 4. point params.yaml at it
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["profile"] = "wine"
    params["sources"] = ["data/external/wine.csv"]  # DVC notices when the file changes
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    # 5. run the pipeline
    run(["git", "add", "-A"], repo)
    run(["dvc", "repro"], repo)
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.8
    assert metrics["test_rows"] == math.ceil(len(wine) * params["split"]["test_size"])
    # 6. the default gates need no tuning: the package stage ran, past the relative gates
    assert (repo / "models" / "tabml_service.bento").is_file()
    assert metrics["roc_auc_ovr"] - metrics["baseline"]["roc_auc_ovr"] >= 0.05

    # the base (main) measured penguins: said, and no regression counted across datasets
    gate = make(repo, "gate", "REPRODUCE_BASE=0")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "the dataset changed: the base uses data.profile=penguins" in gate.stdout
    assert "data.profile=wine" in gate.stdout
    assert "ok: all 2 gates pass" in gate.stdout  # the min_lift gates; no absolute ones set

    # an absolute gate in the profile applies, and its failure names where to change it
    profile["gates"] = {"max": {"log_loss": 0.001}}
    (repo / "configs" / "wine.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    gate = make(repo, "gate", "REPRODUCE_BASE=0")
    assert gate.returncode != 0
    assert f"log_loss = {metrics['log_loss']:.6g} is above the maximum 0.001" in gate.stderr
    assert "set gates.max.log_loss in configs/wine.yaml or params.yaml" in gate.stderr
