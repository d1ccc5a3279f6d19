"""Parity of the edge bundle: the ES module scorer on onnxruntime-web (WASM, in Node) answers
as the Python runtime and scikit-learn do, and refuses exactly the records Python refuses.

Cases (testkit/edge_cases.py): every shipped profile and every generated table of the shape
matrix (testkit/shapes.py), each with every model family the registry has for its task. Per
case the test split (up to 120 rows) is scored record by record and as one batch; labels must
be identical and probabilities within 1e-6 of both the Python runtime and scikit-learn
(regression: values and interval ends within the package's parity tolerance); warnings must
be equal. Edge records (text numbers, booleans, unknown categories, impossible dates, values
out of range, missing values, objects) must get the same reasons, word for word. The same in
headless Chromium: tests/service/test_edge_demo.py.
"""

import json
import subprocess

import numpy as np
import pytest

from tabml.model.features import model_frame
from tabml.packaging.edge_parity import check_edge_parity
from testkit import edge
from testkit.edge_cases import PROBABILITY, assert_same_answer, cases, fit_case

pytestmark = pytest.mark.integration  # fits ~20 small models and runs Node
CASES = cases()


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Per case: (Case, Node's results); "bundle": the whole bundle of the first case."""
    reason = edge.node_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("edge")
    fitted, jobs, tables = {}, [], {}
    for name, family in CASES:
        case = fit_case(name, family, root, tables)
        folder = root / f"{name}-{family}"
        if not jobs:  # the first case gets the whole bundle, the others its scorer
            scorer = edge.bundle(case.model, case.onnx_bytes, folder)
        else:
            edge.model_files(case.model, case.onnx_bytes, folder)
        jobs.append((folder, case.records))
        fitted[(name, family)] = case
    results = edge.score_in_node(scorer, jobs)
    found = {key: (fitted[key], got) for key, got in zip(CASES, results, strict=True)}
    found["bundle"] = scorer
    return found


@pytest.mark.parametrize("key", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_node_answers_as_python_and_scikit_learn(scored, key):
    case, found = scored[key]
    model = case.model
    valid = [r for r, f in zip(case.records, found["singles"], strict=True) if "problems" not in f]
    singles = [f for f in found["singles"] if "problems" not in f]
    for js, record in zip(singles, valid, strict=True):
        assert_same_answer(js, model.score([record])[0], model, case.tolerance)  # alone
    for js, py in zip(found["batch"], model.score(valid), strict=True):
        assert_same_answer(js, py, model, case.tolerance)
    # against scikit-learn, on the test rows (the edge records come after them)
    js = found["singles"][: len(case.test)]
    frame = model_frame(case.test, case.profile.features)
    pipeline = case.pipeline
    if model.task.name == "classification":
        assert [a[model.target] for a in js] == [str(c) for c in pipeline.predict(frame)]
        expected = pipeline.predict_proba(frame)
        got = np.array([[a["probabilities"][str(c)] for c in pipeline.classes_] for a in js])
        assert np.abs(got - expected).max() <= PROBABILITY
    else:
        expected = pipeline.predict(frame)
        got = np.array([a[model.target] for a in js])
        allowed = case.tolerance + case.params.regression.parity_rtol * np.abs(expected)
        assert (np.abs(got - expected) <= allowed).all()


@pytest.mark.parametrize("key", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_node_refuses_what_python_refuses(scored, key):
    case, found = scored[key]
    expected = [case.model.inputs([r]).problems.get(0) for r in case.records]
    got = [f.get("problems") for f in found["singles"]]
    assert sum(p is not None for p in expected) >= len(case.model.input_rules.rules)
    assert got == expected


def test_the_command_line_scorer_answers_line_by_line(scored):
    """`node dist/edge/score.mjs < records.jsonl`: one answer per line, refusals included."""
    folder = scored["bundle"]
    case, _ = scored[CASES[0]]
    model, records = case.model, case.records
    first = model.input_rules.features[0]
    absent = {k: v for k, v in records[0].items() if k != first}
    lines = [json.dumps(r) for r in records] + ["not json", "[1, 2]", json.dumps(absent)]
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
            assert_same_answer(answer, next(expected), model, case.tolerance)
    assert answers[-3] == {"errors": ["line is not JSON"]}
    assert answers[-2]["errors"][0].startswith("line is not a JSON object")
    # the API refuses a record without a feature; the Python runtime reads checked records
    assert answers[-1] == {"errors": [f"{first}: missing field (send null for a missing value)"]}


def test_the_build_check_passes_a_regression_bundle(scored, tmp_path):
    """`make edge`'s own check (packaging/edge_parity.py) on a regression model's bundle."""
    key = next(k for k in CASES if not scored[k][0].model.task.classes)
    case, _ = scored[key]
    folder = edge.bundle(case.model, case.onnx_bytes, tmp_path / "edge")
    parity = check_edge_parity(case.model, folder, case.records)
    assert parity.rows == len(case.records) - parity.refused and parity.refused > 0
    assert parity.max_abs_diff <= case.tolerance
