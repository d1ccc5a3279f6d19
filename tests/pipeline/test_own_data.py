"""The README's "Use your own data" steps, run as written on another tabular CSV."""

import json
import math

import yaml
from sklearn.datasets import load_wine

from testkit import run


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
