"""The edge bundle in tests: Node and onnxruntime-web found or installed, bundles written for
models fitted in the test, and records scored by the ES module scorer in one Node process.

The runtime comes from edge/package-lock.json (`npm ci`, as `make edge` runs it); a test
skips with the reason only where Node or npm is missing.
"""

import json
import shutil
import subprocess
from pathlib import Path

from tabml.packaging.edge_bundle import MODEL_FILE, RULES_FILE, edge_rules, write_bundle
from tabml.scoring.model import PackagedModel
from testkit import ROOT

EDGE = ROOT / "edge"
RUNTIME = EDGE / "node_modules/onnxruntime-web/dist"
HARNESS = Path(__file__).with_name("edge_harness.mjs")
NO_NODE = "Node.js 18+ and npm are needed for the edge bundle (apt-get install -y nodejs npm)"


def node_missing() -> str | None:
    """Why the edge tests cannot run here, or None."""
    if not shutil.which("node"):
        return NO_NODE
    if not (RUNTIME / "ort-wasm-simd-threaded.wasm").is_file() and not shutil.which("npm"):
        return NO_NODE
    return None


def install_runtime() -> Path:
    """onnxruntime-web from the lock file (what `make edge` installs); its dist folder."""
    if not (RUNTIME / "ort-wasm-simd-threaded.wasm").is_file():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"],
            cwd=EDGE, check=True, capture_output=True,
        )  # fmt: skip
    return RUNTIME


def bundle(model: PackagedModel, onnx_bytes: bytes, out: Path) -> Path:
    """The whole bundle of `model` in `out` (as `make edge` writes it)."""
    write_bundle(model, onnx_bytes, EDGE / "src", install_runtime(), out)
    return out


def model_files(model: PackagedModel, onnx_bytes: bytes, out: Path) -> Path:
    """Only `model`'s files (model.onnx, rules.json): a scorer of another bundle loads them."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_FILE).write_bytes(onnx_bytes)
    (out / RULES_FILE).write_text(json.dumps(edge_rules(model)))
    return out


def score_in_node(scorer_bundle: Path, jobs: list[tuple[Path, list[dict]]]) -> list[dict]:
    """Per (folder, records): {"singles": one answer or {"problems"} per record, "batch":
    the answers of the valid records scored together}."""
    request = {
        "scorer": str(scorer_bundle / "scorer.mjs"),
        "jobs": [{"dir": str(folder), "records": records} for folder, records in jobs],
    }
    done = subprocess.run(
        ["node", str(HARNESS)], input=json.dumps(request), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
