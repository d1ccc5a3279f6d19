"""The dashboard of a real model life (testkit/model_life.py: v1 in prod, a shift, alerts,
`make retrain` promotes v2, labels missing for the last days), built by `make dashboard`,
read as text and opened in headless Chromium from a file URL with no network.

Screenshots of the page go to the test's folder and to reports/site-screenshots/ (or
$TABML_SCREENSHOTS) for review.
"""

import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from testkit import ROOT, make_cmd, run
from testkit.browser import MISSING, chromium, open_offline
from testkit.model_life import env, live

SCREENSHOTS = Path(os.environ.get("TABML_SCREENSHOTS", ROOT / "reports" / "site-screenshots"))


@pytest.fixture(scope="module")
def life(reproduced, tmp_path_factory) -> Path:
    repo = Path(shutil.copytree(reproduced, tmp_path_factory.mktemp("life") / "repo",
                                symlinks=True))  # fmt: skip
    happened = live(repo)
    assert happened["alert"].returncode == 3  # v1 alerted before the retrain
    assert happened["drift"].returncode == 0 and happened["review"].returncode == 0
    built = run(make_cmd("dashboard"), repo, env=env(repo))
    assert "reports/site/index.html" in built.stdout
    return repo


@pytest.fixture
def browser() -> str:
    found = chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING}; .ci/run runs `make browser` first")
        pytest.skip(MISSING)
    return found


def _text(repo: Path) -> str:
    page = (repo / "reports/site/index.html").read_text()
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_page_answers_what_serves_since_when_how_it_did_and_why(life):
    text = _text(life)
    # Which version is in prod, since when (v2 was promoted at day 7.99 of the life).
    assert "In prod: v1.1.0" in text and "since 2026-11-09 23:45 UTC (promoted)" in text
    # How it did over the last 7 days of data: measured where labelled, estimated where not.
    assert re.search(r"Measured accuracy 0\.\d{3} \(95% CI 0\.\d{3}-[01]\.\d{3}\)", text)
    assert "Without labels yet, estimated accuracy (90% interval): 2026-11-14" in text
    # Why the previous one was replaced: the retrain decision and the monitor's alert.
    decision = json.loads((life / "reports/retrain/decision.json").read_text())
    assert decision["verdict"] == "promote"
    assert "promoted a challenger trained on labelled production data" in text
    assert decision["reasons"][0] in text
    assert "The monitor's verdict on v1.0.0: ALERT" in text
    # The other sections found their files.
    for found in ("Drift", "bill_length_mm", "Model card", "Latest retrain decision: PROMOTE",
                  "Latest review", "Experiments", "Calibration"):  # fmt: skip
        assert found in text, found


def test_the_same_files_give_the_same_page(life):
    first = (life / "reports/site/index.html").read_bytes()
    run(make_cmd("dashboard"), life, env=env(life))
    assert (life / "reports/site/index.html").read_bytes() == first


def test_windows_without_labels_have_estimates_with_intervals(life):
    report = json.loads((life / "reports/monitor/windows.json").read_text())
    (v2,) = [v for v in report["versions"].values() if v["windows"][0]["start"] >= "2026-11-10"]
    waiting = [w for w in v2["windows"] if w["labelled"] == 0]
    assert len(waiting) == 2
    for window in waiting:
        for metric in ("accuracy", "f1_macro", "roc_auc"):
            low, high = window[f"estimated_{metric}_low"], window[f"estimated_{metric}_high"]
            assert 0 < low <= window[f"estimated_{metric}"] <= high <= 1


def _screenshots(page, folder: Path, name: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    shots = [folder / f"{name}.png"]
    page.screenshot(path=shots[0], full_page=True)
    for section in ("summary", "timeline", "performance", "drift"):
        shots.append(folder / f"{name}-{section}.png")
        page.locator(f"#{section}").screenshot(path=shots[-1])
    return shots


def test_the_site_renders_offline_in_chromium(life, browser, tmp_path):
    url = (life / "reports/site/index.html").as_uri()
    with open_offline(url, browser, timezone="America/Los_Angeles") as visit:
        page = visit.page
        assert visit.requests == [url] and visit.refused == []
        assert visit.errors == []
        assert page.locator("#prod-version").inner_text() == "v1.1.0"
        timeline = page.locator("#timeline svg")
        assert timeline.locator("rect.spell").count() >= 4  # prod spells and served runs
        assert timeline.locator("text", has_text="v1.1.0").count() >= 1
        accuracy = page.locator("#chart-accuracy svg")
        assert accuracy.locator("polygon").count() >= 4  # measured and estimated bands
        assert accuracy.locator("line.limit").count() == 2  # one limit per version
        assert accuracy.locator("circle.breach").count() >= 4  # v1's shifted windows
        assert accuracy.locator("circle.estimated").count() >= 10
        assert page.get_by_text("All times are UTC").is_visible()
        shots = _screenshots(page, tmp_path, "dashboard")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        assert shot.stat().st_size > 10_000
        shutil.copy2(shot, SCREENSHOTS / shot.name)


# vega-embed draws on a canvas; the page's own vega and vega-lite render the same spec to SVG
# text here, so the tick labels can be read.
TO_SVG = """async (spec) => {
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {renderer: "none"});
    return await view.toSVG();
}"""


def test_the_dvc_plots_page_draws_utc_axes_and_the_accuracy_band(life, browser, tmp_path):
    out = tmp_path / "plots"
    run(["dvc", "plots", "show", "-o", str(out)], life, env=env(life))
    shown = run(["dvc", "plots", "show", "--json", "reports/monitor/accuracy.json"], life,
                env=env(life)).stdout  # fmt: skip
    (spec,) = [
        p["content"] for p in json.loads(shown)["data"]["dvc.yaml::reports/monitor/accuracy.json"]
    ]
    url = (out / "index.html").as_uri()
    with open_offline(url, browser, timezone="America/Los_Angeles", width=1400) as visit:
        page = visit.page
        chart = page.locator("#reports_monitor_accuracy_json")
        chart.locator("canvas, svg").first.wait_for()
        drawn = page.evaluate(TO_SVG, spec)
        assert visit.refused == [] and visit.errors == []
        ticks = re.findall(r">(2026-\d\d-\d\d \d\d:\d\d)<", drawn)
        # A browser 8 hours behind UTC still labels the day boundaries 00:00 (UTC).
        assert ticks and all(t.endswith("00:00") for t in ticks), ticks
        assert drawn.count('stroke="#d62728"') >= 4  # the breach rings
        assert 'stroke-dasharray="2,3"' in drawn  # the alert limit
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        chart.screenshot(path=SCREENSHOTS / "dvc-plots-accuracy.png")
        page.locator("#reports_monitor_reliability_json").screenshot(
            path=SCREENSHOTS / "dvc-plots-reliability.png"
        )
