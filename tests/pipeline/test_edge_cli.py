"""`python -m tabml.cli edge` (what `make edge` runs) in the session's packaged workspace:
the bundle holds the packaged model byte for byte, its rules as the runtime reads them, the
scorer and the plain WASM runtime only, within 4 MB gzipped, and its parity with the Python
runtime is checked where it is built; without a model, one line."""

import gzip
import json
import sys

import pandas as pd
import pytest

from tabml import paths
from tabml.packaging.edge_bundle import RUNTIME_FILES, edge_rules
from tabml.packaging.edge_parity import EdgeParityError, check_edge_parity
from tabml.scoring.model import load_packaged
from testkit import ROOT, edge, run

pytestmark = pytest.mark.integration  # the CLI in child processes
MAX_GZIPPED = 4_000_000


def _cmd(out, runtime=None) -> list[str]:
    runtime = runtime or edge.install_runtime()
    return [sys.executable, "-m", "tabml.cli", "edge", "--out", str(out),
            "--scorer", str(edge.EDGE / "src"), "--runtime", str(runtime)]  # fmt: skip


def test_edge_writes_the_packaged_model_with_its_rules(packaged, tmp_path):
    if edge.node_missing():
        pytest.skip(edge.node_missing())
    out = tmp_path / "dist" / "edge"
    done = run(_cmd(out), packaged)
    assert "MB gzipped" in done.stdout
    assert "parity with the Python runtime ok in Node on" in done.stdout
    model = load_packaged(packaged / paths.ONNX_MODEL, packaged / paths.BENTO_ARCHIVE)
    assert (out / "model.onnx").read_bytes() == (packaged / paths.ONNX_MODEL).read_bytes()
    assert json.loads((out / "rules.json").read_text()) == json.loads(json.dumps(edge_rules(model)))
    names = {f.name for f in out.iterdir()}
    assert set(RUNTIME_FILES) <= names and {"scorer.mjs", "score.mjs", "index.html"} <= names
    assert not [n for n in names if "webgpu" in n or "jspi" in n or "jsep" in n]
    gzipped = sum(len(gzip.compress(f.read_bytes(), 6)) for f in out.iterdir())
    assert gzipped <= MAX_GZIPPED  # level 6: a few kB more than the CLI's level 9
    # a scorer that drifted from the runtime is caught where the bundle is built
    rules = json.loads((out / "rules.json").read_text())
    rules["rules"][0]["minimum"] = 45.0  # bill_length_mm: refuses rows Python accepts
    (out / "rules.json").write_text(json.dumps(rules))
    test = pd.read_parquet(packaged / paths.TEST_DATA, columns=model.input_rules.features)
    with pytest.raises(EdgeParityError, match=r"Python refuses it with None, the bundle with"):
        check_edge_parity(model, out, json.loads(test.to_json(orient="records")))


def test_edge_without_a_packaged_model_is_one_line(tmp_path):
    cmd = _cmd(tmp_path / "out", runtime=tmp_path)  # the model is looked for first
    done = run(cmd, tmp_path, check=False, env={"PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: ") and "make repro" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
