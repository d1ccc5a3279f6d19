"""The edge demo page in headless Chromium: `python -m tabml.cli edge-demo` serves the bundle
on 127.0.0.1, the page builds its form from the input rules and answers in the browser as the
Python runtime does (onnxruntime-web's WASM build in Chromium); no request leaves the local
server, no console error.
"""

import json
import re
import subprocess
import sys
import time

import pytest

from tabml.data.schema import domain_rules
from tabml.model.features import split_train_test
from tabml.model.tasks import training_task
from tabml.params import Params
from testkit import ROOT, edge
from testkit.browser import MISSING, chromium, open_offline
from testkit.models import packaged_from

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory, profile, schema, raw_penguins):
    """(URL of the demo page, the Python runtime's model of its bundle)."""
    if edge.node_missing():
        pytest.skip(edge.node_missing())
    labelled = raw_penguins.dropna(subset=[profile.target])
    train, _ = split_train_test(labelled, profile.target, 0.3, 42)
    params = Params()
    pipeline, _ = training_task(profile).fit(train, profile, params.train, params)
    model = packaged_from(pipeline, profile, train, domain_rules(profile, schema))
    folder = tmp_path_factory.mktemp("demo") / "edge"
    edge.bundle(model, _onnx(pipeline, profile), folder)
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        [sys.executable, "-m", "tabml.cli", "edge-demo", "--folder", str(folder), "--port", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = server.stdout.readline()  # the URL, printed before it serves
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        yield url, model
    finally:
        server.terminate()
        server.wait(timeout=10)


def _onnx(pipeline, profile) -> bytes:
    from tabml.packaging.onnx_export import to_onnx_bytes

    return to_onnx_bytes(pipeline, profile.features)


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


def test_the_demo_page_answers_in_the_browser_as_python_does(demo):
    browser = chromium()
    if browser is None:
        pytest.skip(MISSING)
    url, model = demo
    record = {"bill_length_mm": "39.1", "bill_depth_mm": "18.7", "flipper_length_mm": "181",
              "body_mass_g": "3750", "island": "Torgersen", "sex": "male"}  # fmt: skip
    invalid = {**record, "bill_length_mm": "lots", "island": "Dream"}
    # Chromium's offline mode also cuts 127.0.0.1: the network is on, but every request
    # outside the demo server's origin is refused and recorded.
    with open_offline(url, browser, offline=False) as visit:
        page = visit.page
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        names = page.eval_on_selector_all("#fields [name]", "found => found.map(e => e.name)")
        assert names == [rule.name for rule in model.input_rules.rules]  # from rules.json
        answer = json.loads(_submit(page, record))
        expected = model.score([record])[0]
        assert answer[model.target] == expected[model.target]
        for label, p in expected["probabilities"].items():
            assert abs(answer["probabilities"][label] - p) <= 1e-6
        assert answer["warnings"] == expected["warnings"]
        refused = _submit(page, invalid)
        assert refused.splitlines() == model.inputs([invalid]).problems[0]
        assert page.locator("#answer.refused").count() == 1
        assert visit.errors == [] and visit.refused == []
        assert all(r.startswith(url) for r in visit.requests)
