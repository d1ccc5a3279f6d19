"""Stage package: ONNX conversion + parity check, BentoML model store, bento build and export,
and the model card (reports/model_card.md, also shipped in the model's metadata)."""

import hashlib
import json
import os

import joblib
import pandas as pd

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.model.features import model_frame
from tabml.model.gates import dataset_gates, enforce_limits, enforce_slices
from tabml.model.plausibility import refuse_implausible
from tabml.model.tasks import training_task
from tabml.packaging import model_card
from tabml.packaging.edge_graph import check_edge_graph
from tabml.packaging.tasks import packaging_task
from tabml.params import load_params
from tabml.scoring.metadata import SCHEMA_VERSION, ModelMetadata
from tabml.scoring.model import PackagedModel
from tabml.stages import run


def main() -> None:
    # Each workspace (also queued experiments) packages into its own store, before BentoML loads.
    os.environ["BENTOML_HOME"] = str(paths.BENTOML_HOME.resolve())
    from tabml.packaging import bento_build as bento

    params = load_params()
    metrics = json.loads(paths.METRICS.read_text())
    profile = load_profile(params.data.profile)
    gates = dataset_gates(params, profile)
    enforce_limits(metrics, gates)  # a model below the gates is never packaged
    importance = json.loads(paths.IMPORTANCE_PLOT.read_text())
    refuse_implausible(metrics, profile, importance)  # nor one too good to be true
    slices = json.loads(paths.SLICES.read_text())
    enforce_slices(slices, gates.gates.slices)
    pipeline = joblib.load(paths.MODEL)  # the only unpickling, at build time
    test_data = pd.read_parquet(paths.TEST_DATA)
    test = model_frame(test_data, profile.features)
    training = json.loads(paths.TRAINING_STATS.read_text())
    task = packaging_task(profile)
    task.check_before_converting(metrics, training, params)
    onnx_bytes = task.to_onnx(pipeline, profile)
    check_edge_graph(onnx_bytes)  # one model for the server, batch, Node and the browser
    metadata = ModelMetadata(
        schema_version=SCHEMA_VERSION,
        **task.metadata(pipeline, training),
        target=profile.target,
        domain_rules=domain_rules(profile, load_schema(profile)),
        training_stats=training,
        # Which files DVC watches is no property of the model (and penguins' stays unchanged).
        params=params.model_dump(mode="json", by_alias=True, exclude={"sources"}),
        metrics=metrics,
        parity_tolerance=params.package.parity_tolerance,
        max_records=params.package.max_records,
        max_field_errors=params.package.max_field_errors,
        git_blob_shas=bento.serving_code_shas(paths.SRC / "tabml"),
        entities=profile.entities,
    )
    model = PackagedModel(onnx_bytes, metadata)  # the runtime object serving will load
    parity = task.check_parity(pipeline, model, test_data, profile, params, training)
    card = model_card.render(
        model_card.CardInputs(
            task=task,
            profile=profile,
            params=params,
            classes=model.task.classes,
            metrics=metrics,
            slices=slices,
            training_stats=training,
            parity=parity,
            gate_results=model_card.gate_results(gates.gates, slices),
            y_true=training_task(profile).target(test_data, profile),
            predicted=pipeline.predict(test),
            test_frame=test,
            onnx_sha256=hashlib.sha256(onnx_bytes).hexdigest(),
            versions=model_card.package_versions(),
        )
    )
    atomic.write_bytes(paths.ONNX_MODEL, onnx_bytes)
    atomic.write_text(paths.MODEL_CARD, card)
    stored = metadata.model_copy(update={"model_card": card}).to_store()
    meta_bytes = json.dumps(stored, sort_keys=True).encode()
    model_tag = bento.save_model(
        paths.ONNX_MODEL, stored, bento.content_version(onnx_bytes, meta_bytes)
    )
    built = bento.build_bento(paths.SRC.resolve(), model_tag)
    archive = bento.export_bento(built, paths.BENTO_ARCHIVE)
    print(
        f"package: parity ok on {parity.rows} rows (max |dp| {parity.max_abs_diff:.1e} <= "
        f"{parity.tolerance:g}); {model_tag} -> bento {built.tag} -> {archive}"
    )


if __name__ == "__main__":
    run(main)
