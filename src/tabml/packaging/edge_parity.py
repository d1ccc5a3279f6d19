"""The bundle checked where it is built: `make edge` scores the test split with the bundle's
own command-line scorer in Node and compares every line with the Python runtime.

Labels must be identical and probabilities within `PROBABILITY` (regression: the value and
interval ends within the package's parity tolerance, on the target's scale); a record the
Python runtime refuses must be refused with the same reasons. A bundle that disagrees is not
left in place (the CLI removes it). The full matrix (every profile, shape table and family,
edge records, Chromium) is tests/model/test_edge_parity.py and tests/service/test_edge_demo.py.
"""

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tabml.errors import TabmlError
from tabml.scoring.model import PackagedModel

PROBABILITY = 1e-6


class EdgeParityError(TabmlError):
    """The bundle's scorer does not answer as the Python runtime does."""


@dataclass(frozen=True)
class EdgeParity:
    rows: int
    refused: int
    max_abs_diff: float


def _node_answers(bundle: Path, records: Sequence[dict]) -> list[dict]:
    lines = "".join(json.dumps(r) + "\n" for r in records)
    done = subprocess.run(
        ["node", str(bundle / "score.mjs")], input=lines, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EdgeParityError(f"node {bundle / 'score.mjs'} failed: {last}")
    return [json.loads(line) for line in done.stdout.splitlines()]


def _difference(js: dict, py: dict, model: PackagedModel) -> float:
    """The largest |difference| of two answers (inf where labels or warnings differ)."""
    target = model.target
    if js.get("warnings") != py["warnings"]:
        return float("inf")
    if model.task.classes:  # a label and class probabilities
        if js.get(target) != py[target]:
            return float("inf")
        return max(abs(js["probabilities"][c] - p) for c, p in py["probabilities"].items())
    pairs = [(js[target], py[target]), *zip(js["interval"], py["interval"], strict=True)]
    return max(abs(a - b) for a, b in pairs)


def check_edge_parity(model: PackagedModel, bundle: Path, records: Sequence[dict]) -> EdgeParity:
    """Score `records` with the bundle in Node and with `model`; raise on any disagreement.

    Raises:
        EdgeParityError: naming the first record that differs, and how.
    """
    if not shutil.which("node"):
        raise EdgeParityError("node not found: the bundle's parity needs Node.js 18+")
    answers = _node_answers(bundle, records)
    if len(answers) != len(records):
        raise EdgeParityError(f"node answered {len(answers)} lines for {len(records)} records")
    problems = [model.inputs([r]).problems.get(0) for r in records]
    valid = [r for r, p in zip(records, problems, strict=True) if p is None]
    expected = iter(model.score(valid))  # score.mjs scores the valid lines together too
    tolerance = PROBABILITY  # on probabilities; a value's is the package's, on its scale
    if not model.task.classes:
        regression = model.metadata.training_stats.regression
        tolerance = model.metadata.parity_tolerance * regression.target.std
    largest = 0.0
    for row, (answer, reasons) in enumerate(zip(answers, problems, strict=True)):
        if reasons is not None or "errors" in answer:
            if answer.get("errors") != reasons:
                raise EdgeParityError(
                    f"record {row}: Python refuses it with {reasons}, the bundle with "
                    f"{answer.get('errors')}"
                )
            continue
        difference = _difference(answer, next(expected), model)
        if difference > tolerance:
            raise EdgeParityError(
                f"record {row}: the bundle answers {answer}, off by {difference:.3g} "
                f"(> {tolerance:g}) or with another label or warnings than Python"
            )
        largest = max(largest, difference)
    return EdgeParity(len(valid), len(records) - len(valid), largest)
