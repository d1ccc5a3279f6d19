"""The edge bundle in headless Chromium (Debian's, `make browser`): `python -m tabml.cli
edge-demo` serves it on 127.0.0.1; the demo page builds its form from the input rules and
answers as the Python runtime does; the scorer in the page scores test splits (penguins, and
a shape-matrix table with three date formats) and edge records exactly as Python does; no
request leaves the local server, no console error.
"""

import json
import re
import subprocess
import sys
import time

import pytest

from testkit import ROOT, edge
from testkit.browser import MISSING, chromium, open_offline
from testkit.edge_cases import assert_same_answer, fit_case

pytestmark = pytest.mark.slow  # a browser: ~10 s, beside the default tier's Node parity
EXTRA = ("shape_binary", "logistic_regression")  # a model with dates, in a subfolder
# Every record scored alone in the page: its answer, or {"problems": [...]}.
SCORE_IN_PAGE = """async ([folder, records]) => {
  const { EdgeModel, InputError } = await import('./scorer.mjs');
  const model = await EdgeModel.load(new URL(folder, location.href));
  const found = [];
  for (const record of records) {
    try {
      found.push((await model.score([record]))[0]);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      found.push({ problems: err.problems[0] });
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(URL of the demo page, {subfolder: Case}) while the demo server runs."""
    if edge.node_missing():
        pytest.skip(edge.node_missing())
    if chromium() is None:
        pytest.skip(MISSING)
    root, tables = tmp_path_factory.mktemp("demo"), {}
    folder = root / "edge"
    main = fit_case("penguins", "logistic_regression", root, tables)
    edge.bundle(main.model, main.onnx_bytes, folder)
    extra = fit_case(*EXTRA, root, tables)
    edge.model_files(extra.model, extra.onnx_bytes, folder / EXTRA[0])
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        [sys.executable, "-m", "tabml.cli", "edge-demo", "--folder", str(folder), "--port", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = server.stdout.readline()  # the URL, printed before it serves
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        yield url, {"./": main, f"./{EXTRA[0]}/": extra}
    finally:
        server.terminate()
        server.wait(timeout=10)


def _submit(page, record: dict) -> str:
    for name, value in record.items():
        field = page.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option("" if value is None else value)
        else:
            field.fill("" if value is None else str(value))
    before = page.locator("#answer").text_content()
    page.click("button[type=submit]")
    deadline = time.monotonic() + 10
    while page.locator("#answer").text_content() == before and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    return page.locator("#answer").text_content()


def test_chromium_answers_as_python_on_the_page_and_on_test_splits(demo):
    url, cases = demo
    model = cases["./"].model
    record = {"bill_length_mm": "39.1", "bill_depth_mm": "18.7", "flipper_length_mm": "181",
              "body_mass_g": "3750", "island": "Torgersen", "sex": "male"}  # fmt: skip
    invalid = {**record, "bill_length_mm": "lots", "island": "Dream"}
    # Chromium's offline mode also cuts 127.0.0.1: the network is on, but every request
    # outside the demo server's origin is refused and recorded.
    with open_offline(url, chromium(), offline=False) as visit:
        page = visit.page
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        names = page.eval_on_selector_all("#fields [name]", "found => found.map(e => e.name)")
        assert names == [rule.name for rule in model.input_rules.rules]  # from rules.json
        answer = json.loads(_submit(page, record))  # the form, as a person fills it
        assert_same_answer(answer, model.score([record])[0], model, 0.0)
        refused = _submit(page, invalid)
        assert refused.splitlines() == model.inputs([invalid]).problems[0]
        assert page.locator("#answer.refused").count() == 1
        for folder, case in cases.items():
            found = page.evaluate(SCORE_IN_PAGE, [folder, case.records])
            for js, record in zip(found, case.records, strict=True):
                problems = case.model.inputs([record]).problems.get(0)
                if problems or "problems" in js:
                    assert js.get("problems") == problems
                else:
                    assert_same_answer(js, case.model.score([record])[0], case.model, 0.0)
        assert visit.errors == [] and visit.refused == []
        assert all(r.startswith(url) for r in visit.requests)
