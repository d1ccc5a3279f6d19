"""The package stage refuses a model below the absolute metric gates and keeps the old bento."""

import json
import shutil

import yaml

from testkit import run


def test_model_below_the_gate_is_not_packaged(reproduced, tmp_path):
    repo = shutil.copytree(reproduced, tmp_path / "repo", symlinks=True)
    bento = repo / "models" / "tabml_service.bento"
    bento_before = bento.read_bytes()
    f1 = json.loads((repo / "reports" / "metrics.json").read_text())["f1_macro"]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["gates"]["min"]["f1_macro"] = 0.99
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    result = run(["dvc", "repro"], repo, check=False)

    assert result.returncode != 0
    assert "Running stage 'package'" in result.stdout
    assert "Running stage 'train'" not in result.stdout  # only the gate param changed
    message = result.stdout + result.stderr
    assert "f1_macro" in message and "0.99" in message and str(f1) in message
    assert bento.read_bytes() == bento_before


def test_model_below_a_slice_floor_is_not_packaged(reproduced, tmp_path):
    repo = shutil.copytree(reproduced, tmp_path / "repo", symlinks=True)
    bento = repo / "models" / "tabml_service.bento"
    bento_before = bento.read_bytes()
    slices = json.loads((repo / "reports" / "slices.json").read_text())
    worst = min(
        (s["f1_macro"], f"{feature}={name}")
        for feature, by_slice in slices.items()
        for name, s in by_slice.items()
        if s["rows"] >= 20
    )
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["gates"]["slices"]["min"] = {"f1_macro": round(worst[0] + 0.01, 6)}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    result = run(["dvc", "repro"], repo, check=False)

    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert f"f1_macro on slice {worst[1]} (" in message and "below the minimum" in message
    assert bento.read_bytes() == bento_before
