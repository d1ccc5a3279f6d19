"""Stage package: ONNX conversion + parity check, BentoML model store, bento build and export."""

import json
import os

import joblib
import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.model.features import model_frame
from tabml.model.gates import enforce_absolute
from tabml.packaging.onnx_export import check_parity, to_onnx_bytes
from tabml.params import load_params
from tabml.scoring.onnx_classifier import OnnxClassifier
from tabml.scoring.rules import rules_to_json
from tabml.stages import run


def main() -> None:
    # Each workspace (also queued experiments) packages into its own store, before BentoML loads.
    os.environ["BENTOML_HOME"] = str(paths.BENTOML_HOME.resolve())
    from tabml.packaging import bento_build as bento

    params = load_params()
    metrics = json.loads(paths.METRICS.read_text())
    enforce_absolute(metrics, params.gates)  # a model below the gates is never packaged
    profile = load_profile(params.data.profile)
    pipeline = joblib.load(paths.MODEL)  # the only unpickling, at build time
    test = model_frame(pd.read_parquet(paths.TEST_DATA), profile.features)
    onnx_bytes = to_onnx_bytes(pipeline, profile.features)
    parity = check_parity(
        pipeline, OnnxClassifier(onnx_bytes), test, params.package.parity_tolerance
    )
    atomic.write_bytes(paths.ONNX_MODEL, onnx_bytes)
    metadata = bento.model_metadata(
        target=profile.target,
        classes=[str(c) for c in pipeline.classes_],
        domain_rules=rules_to_json(domain_rules(profile, load_schema(profile))),
        training_stats=json.loads(paths.TRAINING_STATS.read_text()),
        params=params.model_dump(mode="json", by_alias=True),
        metrics=metrics,
        parity_tolerance=params.package.parity_tolerance,
        max_records=params.package.max_records,
        max_field_errors=params.package.max_field_errors,
        code_shas=bento.serving_code_shas(paths.SRC / "tabml"),
    )
    meta_bytes = json.dumps(metadata, sort_keys=True).encode()
    model_tag = bento.save_model(
        paths.ONNX_MODEL, metadata, bento.content_version(onnx_bytes, meta_bytes)
    )
    built = bento.build_bento(paths.SRC.resolve(), model_tag)
    archive = bento.export_bento(built, paths.BENTO_ARCHIVE)
    print(
        f"package: parity ok on {parity.rows} rows (max |dp| {parity.max_abs_diff:.1e} <= "
        f"{parity.tolerance:g}); {model_tag} -> bento {built.tag} -> {archive}"
    )


if __name__ == "__main__":
    run(main)
