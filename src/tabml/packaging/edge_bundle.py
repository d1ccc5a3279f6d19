"""The edge bundle (`make edge` -> dist/edge/): the packaged model, its input rules as data,
the ES module scorer and onnxruntime-web's plain WASM runtime, in one static folder.

`edge_rules` is everything the JavaScript scorer (edge/src/inputs.mjs, edge/src/scorer.mjs)
needs to turn records into feeds and answers exactly as `tabml.scoring.model.PackagedModel`
does: the domain rules, the missing-category token, the ONNX input names in order, the task's
outputs and answer shape, and the training ranges the warnings compare with. It is read off
the loaded runtime object, so the bundle cannot disagree with the model it ships.
"""

import gzip
import json
import shutil
from pathlib import Path

from tabml.errors import TabmlError
from tabml.packaging.edge_graph import check_edge_graph
from tabml.scoring.model import PackagedModel
from tabml.scoring.rules import rules_to_json

RULES_FILE = "rules.json"
MODEL_FILE = "model.onnx"
# onnxruntime-web's plain WASM build: the ES module with its loader bundled in, and the WASM
# binary it loads (never the /webgpu or /jspi builds: docs/edge.md).
RUNTIME_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
RULES_FORMAT = 1


class EdgeBundleError(TabmlError):
    """The edge bundle cannot be written (no runtime installed, no model)."""


def edge_rules(model: PackagedModel) -> dict:
    """The input rules and answer shape of `model`, as JSON-able data."""
    meta = model.metadata
    interval = meta.prediction_interval
    return {
        "format": RULES_FORMAT,
        "version": model.version,
        "task": model.task.name,
        "target": meta.target,
        "classes": list(model.task.classes),
        "interval": None
        if interval is None
        else {"half_width": interval.half_width, "level": interval.level},
        "outputs": list(model.task.onnx_outputs),
        "missing_category": model.input_rules.missing_category,
        "rules": rules_to_json(model.input_rules.rules),
        "numeric_inputs": model.input_rules.model_numeric,
        "categorical_inputs": model.input_rules.categorical,
        # Pairs, not objects: the order is the runtime's (JavaScript objects put keys that
        # look like integers first).
        "onnx_inputs": [[name, onnx] for name, onnx in model.input_of.items()],
        "warnings": {
            "numeric": [[name, *r] for name, r in model.warnings.numeric.items()],
            "categorical": [[n, sorted(c)] for n, c in model.warnings.categories.items()],
        },
        "max_records": meta.max_records,
        "parity_tolerance": meta.parity_tolerance,
    }


def write_bundle(model: PackagedModel, onnx_bytes: bytes, scorer: Path, runtime: Path,
                 out: Path) -> list[Path]:  # fmt: skip
    """Write the bundle into `out` (replaced whole); the files written.

    Args:
        scorer: the folder of the ES module scorer, CLI and demo page (edge/src).
        runtime: onnxruntime-web's dist folder (edge/node_modules/onnxruntime-web/dist).
    """
    check_edge_graph(onnx_bytes)
    missing = [name for name in RUNTIME_FILES if not (runtime / name).is_file()]
    if missing:
        raise EdgeBundleError(
            f"onnxruntime-web is not installed ({runtime / missing[0]} missing): run `make edge`"
        )
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / MODEL_FILE).write_bytes(onnx_bytes)
    rules = json.dumps(edge_rules(model), indent=1, allow_nan=False)
    (staging / RULES_FILE).write_text(rules + "\n")
    for source in sorted(scorer.iterdir()):
        if source.is_file():
            shutil.copyfile(source, staging / source.name)
    for name in RUNTIME_FILES:
        shutil.copyfile(runtime / name, staging / name)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)  # the whole folder appears at once
    return sorted(out.iterdir())


def gzipped_size(files: list[Path]) -> int:
    """Bytes of `files` gzipped one by one (what a web server sends with gzip on)."""
    return sum(len(gzip.compress(f.read_bytes(), compresslevel=9, mtime=0)) for f in files)
