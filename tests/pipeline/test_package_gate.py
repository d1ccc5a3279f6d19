"""The package stage refuses a model below the absolute metric gates and keeps the old bento.

The stage runs on the session's packaged workspace (tests/conftest.py); one real `dvc repro`
checks that DVC stops there and reruns only that stage.
"""

import json
import shutil

import pytest
import yaml

from tabml import paths
from testkit import run
from testkit.workspace import StageFailed, run_stages, write_params


def _refused(workspace, **params) -> str:
    """Run the package stage with `params` (dotted) set; return its error message."""
    bento = workspace / paths.BENTO_ARCHIVE
    before = bento.read_bytes()
    write_params(workspace, **params)
    with pytest.raises(StageFailed) as failed:
        run_stages(workspace, "package")
    assert bento.read_bytes() == before  # the last good package stays
    assert "Traceback" not in failed.value.output
    return failed.value.output.split("error: ", 1)[1]


def test_the_package_stage_refuses_a_model_below_a_gate(packaged_copy):
    f1 = json.loads((packaged_copy / paths.METRICS).read_text())["f1_macro"]
    message = _refused(packaged_copy, **{"gates.min.f1_macro": 0.999})  # auto scores 0.992
    assert "f1_macro" in message and "0.999" in message and str(f1) in message


def test_the_package_stage_refuses_a_model_below_a_slice_floor(packaged_copy):
    slices = json.loads((packaged_copy / paths.SLICES).read_text())
    worst = min(
        (s["f1_macro"], f"{feature}={name}")
        for feature, by_slice in slices.items()
        for name, s in by_slice.items()
        if s["rows"] >= 20
    )
    message = _refused(
        packaged_copy, **{"gates.slices.min": {"f1_macro": round(worst[0] + 0.01, 6)}}
    )
    assert f"f1_macro on slice {worst[1]} (" in message and "below the minimum" in message


def test_model_below_the_gate_is_not_packaged(reproduced, tmp_path):
    repo = shutil.copytree(reproduced, tmp_path / "repo", symlinks=True)
    bento = repo / "models" / "tabml_service.bento"
    bento_before = bento.read_bytes()
    f1 = json.loads((repo / "reports" / "metrics.json").read_text())["f1_macro"]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["gates"]["min"]["f1_macro"] = 0.999  # the default auto model scores 0.992
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    result = run(["dvc", "repro"], repo, check=False)

    assert result.returncode != 0
    assert "Running stage 'package'" in result.stdout
    assert "Running stage 'train'" not in result.stdout  # only the gate param changed
    message = result.stdout + result.stderr
    assert "f1_macro" in message and "0.999" in message and str(f1) in message
    assert bento.read_bytes() == bento_before
