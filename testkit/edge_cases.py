"""Models for the edge parity tests: a shipped profile or a shape-matrix table, fitted with a
family as the stages fit it, packaged as the runtime object, with the records to send.

`fit_case` reads a table once per folder (flights on a sample), splits, fits, converts and
builds the metadata as the package stage does; `edge_records` adds, per rule, values a
client may send (text numbers, booleans, unknown categories, impossible dates, out of range,
missing); `assert_same_answer` compares a JavaScript answer with the Python runtime's.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tabml.data.profile import DatasetProfile, load_profile
from tabml.data.profile_draft import write_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.data.validation import derive_target, read_raw, validate_raw
from tabml.model.families import families_for
from tabml.model.features import split_train_test
from tabml.model.tasks import training_task
from tabml.model.training_stats import training_stats
from tabml.packaging.tasks import packaging_task
from tabml.params import Params
from tabml.scoring.metadata import SCHEMA_VERSION, ModelMetadata
from tabml.scoring.model import PackagedModel
from testkit import ROOT, shapes

PROFILES = ("penguins", "penguins_mass", "flights")
SAMPLE = 3000  # rows of a big table fitted on: the parity, not the model, is under test
ROWS = 120  # test rows sent per case
PROBABILITY = 1e-6  # the largest |dp| between scorers


def cases() -> list[tuple[str, str]]:
    """(table, family): every shipped profile and shape-matrix table with every family the
    registry has for its task (a family added to the registry is a case with no change)."""
    found = []
    for name in PROFILES:
        task = load_profile(name, ROOT / "configs").task
        found += [(name, family) for family in families_for(task)]
    for shape in shapes.SHAPES:
        task = "regression" if shape.task == "regression" else "classification"
        found += [(shape.name, family) for family in families_for(task)]
    return found


def _table(name: str, folder: Path) -> tuple[DatasetProfile, Any, pd.DataFrame]:
    """(profile, schema, validated rows) of a shipped profile or a shape-matrix table."""
    shape = next((s for s in shapes.SHAPES if s.name == name), None)
    source = folder / f"{name}.csv"
    if shape is None:
        profile = load_profile(name, ROOT / "configs")
        found = profile.source.resolve()  # a package's file, or one under the checkout
        text = {c: str for c in [*profile.features.categorical, *profile.features.dates]}
        frame = pd.read_csv(found if found.is_absolute() else ROOT / found, dtype=text)
        if len(frame) > SAMPLE:  # pandas reads the zipped CSV; ingest extracts it
            frame = frame.sample(SAMPLE, random_state=0).sort_index()
        frame.to_csv(source, index=False)
        schema = load_schema(profile, ROOT / "configs")
    else:
        shapes.make_table(shape).to_csv(source, index=False)
        write_profile(source, name, "y", folder, categorical=shape.categorical)
        profile = load_profile(name, folder)
        schema = load_schema(profile, folder)
    features = profile.features
    raw = read_raw(source, [*features.categorical, *features.dates])
    raw = derive_target(raw, profile.target, profile.target_rule)
    dates = {c: d.format for c, d in features.dates.items()}
    clean, report = validate_raw(raw, schema, profile.target, 20, str(source), dates)
    assert report.ok, report.failures
    return profile, schema, clean


@dataclass
class Case:
    model: PackagedModel
    onnx_bytes: bytes
    pipeline: Any
    profile: DatasetProfile
    params: Params
    test: pd.DataFrame  # the valid test rows (records[: len(test)])
    records: list[dict]  # the test rows as JSON records, then the edge records

    @property
    def tolerance(self) -> float:
        """The package stage's: on probabilities, or scaled by the target's spread."""
        tolerance = self.params.package.parity_tolerance
        if self.model.task.name == "regression":
            tolerance *= self.model.metadata.training_stats.regression.target.std
        return tolerance


def fit_case(name: str, family: str, folder: Path, tables: dict) -> Case:
    """`family` fitted on table `name` (read once into `tables`) and packaged."""
    if name not in tables:
        tables[name] = _table(name, folder)
    profile, schema, frame = tables[name]
    task = training_task(profile)
    train, test = split_train_test(frame, profile.target, 0.3, 42, task.stratify)
    params = Params().model_copy(
        update={"train": Params().train.model_copy(update={"model": family})}
    )
    pipeline, extra = task.fit(train, profile, params.train, params)
    stats = {**training_stats(train, profile), **extra}
    packaging = packaging_task(profile)
    onnx_bytes = packaging.to_onnx(pipeline, profile)
    metadata = ModelMetadata(
        schema_version=SCHEMA_VERSION,
        **packaging.metadata(pipeline, stats),
        target=profile.target,
        domain_rules=domain_rules(profile, schema),
        training_stats=stats,
        parity_tolerance=params.package.parity_tolerance,
        max_records=1000,
    )
    model = PackagedModel(onnx_bytes, metadata, f"{name}-{family}:1")
    test = test.head(ROWS)
    records = shapes.records(test, model.input_rules.features)
    valid = model.inputs(records).valid
    test, records = test[valid], [r for r, ok in zip(records, valid, strict=True) if ok]
    records += edge_records(records[0], model)
    return Case(model, onnx_bytes, pipeline, profile, params, test, records)


def edge_records(good: dict, model: PackagedModel) -> list[dict]:
    """`good` with one value changed, per rule and per value a client may send."""
    found = []
    for rule in model.input_rules.rules:
        if rule.kind == "numeric":
            low = -1e9 if rule.minimum is None else rule.minimum - 1
            high = 1e9 if rule.maximum is None else rule.maximum + 1.5
            values = ["lots", True, "inf", " 12.5 ", "1_0", "nan", low, high, None, [1], 1e-7]
        elif rule.kind == "categorical":
            values = ["zz-unknown", 3, 2.5, True, None, {"a": 1}, "it's", "x" * 150]
        else:
            values = ["2019-02-30", "yesterday", 5, None, "2019-3-4", "2019-03-04T10:15:00Z",
                      "2019/03/04", "2020-02-29T23:59:59.5+05:30", "1969-07-20 20:17"]  # fmt: skip
        found += [{**good, rule.name: value} for value in values]
    return found


def assert_same_answer(js: dict, py: dict, model: PackagedModel, tolerance: float) -> None:
    """A JavaScript answer is the Python runtime's: label, probabilities within 1e-6 (or the
    value and interval within `tolerance`), warnings equal."""
    target = model.target
    assert set(js) == set(py)
    assert js["warnings"] == py["warnings"]
    if model.task.name == "classification":
        assert js[target] == py[target]
        for label, p in py["probabilities"].items():
            assert abs(js["probabilities"][label] - p) <= PROBABILITY
    else:
        assert math.isclose(js[target], py[target], rel_tol=1e-6, abs_tol=tolerance)
        for a, b in zip(js["interval"], py["interval"], strict=True):
            assert math.isclose(a, b, rel_tol=1e-6, abs_tol=tolerance)
