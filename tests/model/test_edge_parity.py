"""Parity of the edge bundle: the ES module scorer on onnxruntime-web (WASM, in Node) answers
as the Python runtime and scikit-learn do, and refuses exactly the records Python refuses.

Cases: every shipped profile and every generated table of the shape matrix
(testkit/shapes.py), each with every model family the registry has for its task
(`families_for`: a family added to the registry is covered without a change here). Per case
the test split (up to 120 rows) is scored record by record and as one batch; labels must be
identical and probabilities within 1e-6 of both the Python runtime and scikit-learn
(regression: values and interval ends within the package's parity tolerance); warnings must be
equal. Edge records (text numbers, booleans, unknown categories, impossible dates, values
out of range, missing values, objects) must get the same reasons, word for word.
"""

import json
import math
import subprocess

import numpy as np
import pandas as pd
import pytest

from tabml.data.profile import load_profile
from tabml.data.profile_draft import write_profile
from tabml.data.schema import domain_rules, load_schema
from tabml.data.validation import derive_target, read_raw, validate_raw
from tabml.model.families import families_for
from tabml.model.features import model_frame, split_train_test
from tabml.model.tasks import training_task
from tabml.model.training_stats import training_stats
from tabml.packaging.tasks import packaging_task
from tabml.params import Params
from tabml.scoring.metadata import SCHEMA_VERSION, ModelMetadata
from tabml.scoring.model import PackagedModel
from testkit import ROOT, edge, shapes

pytestmark = pytest.mark.integration  # fits ~20 small models and runs Node
PROFILES = ("penguins", "penguins_mass", "flights")
ROWS = 120
FLIGHTS_SAMPLE = 3000  # rows of flights fitted on: the parity, not the model, is under test
PROBABILITY = 1e-6


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name in PROFILES:
        task = load_profile(name, ROOT / "configs").task
        cases += [(name, family) for family in families_for(task)]
    for shape in shapes.SHAPES:
        task = "regression" if shape.task == "regression" else "classification"
        cases += [(shape.name, family) for family in families_for(task)]
    return cases


CASES = _cases()


def _profile_table(name: str, folder):
    """(profile, schema, labelled rows) of a shipped profile or a shape-matrix table."""
    shape = next((s for s in shapes.SHAPES if s.name == name), None)
    if shape is None:
        profile = load_profile(name, ROOT / "configs")
        found = profile.source.resolve()  # a package's file, or one under the checkout
        text = {c: str for c in [*profile.features.categorical, *profile.features.dates]}
        frame = pd.read_csv(found if found.is_absolute() else ROOT / found, dtype=text)
        if len(frame) > FLIGHTS_SAMPLE:  # pandas reads the zipped CSV; ingest extracts it
            frame = frame.sample(FLIGHTS_SAMPLE, random_state=0).sort_index()
        source = folder / f"{name}.csv"
        frame.to_csv(source, index=False)
        schema = load_schema(profile, ROOT / "configs")
    else:
        source = folder / f"{name}.csv"
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


def _edge_records(good: dict, model: PackagedModel) -> list[dict]:
    """One value per rule that a surface may send: valid text forms and invalid values."""
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


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Per case: (model, pipeline, profile, valid test rows, records, Node's results)."""
    reason = edge.node_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("edge")
    fitted, jobs, scorer = {}, [], None
    tables = {}
    for name, family in CASES:
        if name not in tables:
            tables[name] = _profile_table(name, root)
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
        columns = model.input_rules.features
        test = test.head(ROWS)
        records = shapes.records(test, columns)
        valid = model.inputs(records).valid
        good = next(r for r, ok in zip(records, valid, strict=True) if ok)
        records += _edge_records(good, model)
        folder = root / f"{name}-{family}"
        if scorer is None:  # the first case gets the whole bundle, the others its scorer
            scorer = edge.bundle(model, onnx_bytes, folder)
        else:
            edge.model_files(model, onnx_bytes, folder)
        jobs.append((folder, records))
        fitted[(name, family)] = (model, pipeline, profile, params, test[valid], records)
    results = edge.score_in_node(scorer, jobs)
    found = {case: (*fitted[case], found) for case, found in zip(CASES, results, strict=True)}
    found["bundle"] = scorer
    return found


def _close_answers(js: dict, py: dict, model: PackagedModel, tolerance: float) -> None:
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


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_node_answers_as_python_and_scikit_learn(scored, case):
    model, pipeline, profile, params, test, records, found = scored[case]
    valid = [r for r, f in zip(records, found["singles"], strict=True) if "problems" not in f]
    answers = model.score(valid)
    singles = [f for f in found["singles"] if "problems" not in f]
    tolerance = params.package.parity_tolerance
    if model.task.name == "regression":  # as the package stage's parity check
        tolerance *= model.metadata.training_stats.regression.target.std
    for js, record in zip(singles, valid, strict=True):
        _close_answers(js, model.score([record])[0], model, tolerance)  # one record alone
    for js, py in zip(found["batch"], answers, strict=True):
        _close_answers(js, py, model, tolerance)
    # against scikit-learn, on the test rows (the edge records come after them)
    js = found["singles"][: len(test)]
    frame = model_frame(test, profile.features)
    if model.task.name == "classification":
        assert [a[model.target] for a in js] == [str(c) for c in pipeline.predict(frame)]
        expected = pipeline.predict_proba(frame)
        got = np.array([[a["probabilities"][str(c)] for c in pipeline.classes_] for a in js])
        assert np.abs(got - expected).max() <= PROBABILITY
    else:
        expected = pipeline.predict(frame)
        got = np.array([a[model.target] for a in js])
        allowed = tolerance + params.regression.parity_rtol * np.abs(expected)
        assert (np.abs(got - expected) <= allowed).all()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_node_refuses_what_python_refuses(scored, case):
    model, *_, records, found = scored[case]
    expected = [model.inputs([r]).problems.get(0) for r in records]
    got = [f.get("problems") for f in found["singles"]]
    assert sum(p is not None for p in expected) >= len(model.input_rules.rules)  # edge records
    assert got == expected


def test_the_command_line_scorer_answers_line_by_line(scored):
    """`node dist/edge/score.mjs < records.jsonl`: one answer per line, refusals included."""
    folder = scored["bundle"]
    model, *_, records, _ = scored[CASES[0]]
    lines = [json.dumps(r) for r in records] + ["not json", "[1, 2]"]
    done = subprocess.run(
        ["node", str(folder / "score.mjs")], input="\n".join(lines) + "\n",
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(lines)
    valid = [r for r in records if not model.inputs([r]).problems]
    expected = iter(model.score(valid))  # the CLI scores the valid lines of a batch together
    for record, answer in zip(records, answers, strict=False):
        problems = model.inputs([record]).problems.get(0)
        if problems:
            assert answer == {"errors": problems}
        else:
            python = next(expected)
            assert answer[model.target] == python[model.target]
            assert answer["warnings"] == python["warnings"]
    assert answers[-2] == {"errors": ["line is not JSON"]}
    assert answers[-1]["errors"][0].startswith("line is not a JSON object")
