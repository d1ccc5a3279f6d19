"""The dashboard's pure parts on small hand-made inputs: the registry journal (prod spells,
rollbacks), the charts (UTC, gaps, bands, limits, breaches), and a page built from report
files alone (offline, same bytes twice, says what to run for what is missing)."""

import re
from datetime import UTC, datetime, timedelta

from tabml.dashboard import charts, svg
from tabml.dashboard.build import build_site
from tabml.dashboard.registry_events import journal_events, prod_spells
from tabml.monitoring import monitor_files

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _entry(hours: float, event: str, version: str, stage: str | None = None) -> dict:
    return {"timestamp": T0 + timedelta(hours=hours), "event": event, "version": version,
            "stage": stage, "message": f"{event} {version}\n\nmodel_card_sha256: ab",
            "author": "me", "priority": 3 if event == "registration" else 5}  # fmt: skip


def test_prod_spells_follow_assignments_and_a_return_to_an_older_version_is_a_rollback():
    journal = [
        _entry(0, "registration", "v1.0.0"), _entry(1, "assignment", "v1.0.0", "prod"),
        _entry(24, "registration", "v1.1.0"), _entry(25, "assignment", "v1.1.0", "prod"),
        _entry(26, "assignment", "v1.1.0", "staging"), _entry(30, "assignment", "v1.0.0", "prod"),
    ]  # fmt: skip
    events = journal_events(list(reversed(journal)))  # any order in, time order out
    assert [e.rollback for e in events] == [False, False, False, False, False, True]
    assert events[0].message == "registration v1.0.0"  # the card's hash line dropped
    spells = prod_spells(events)
    assert [(s.version, s.rollback) for s in spells] == [
        ("v1.0.0", False), ("v1.1.0", False), ("v1.0.0", True)]  # fmt: skip
    assert spells[0].end == spells[1].start == (T0 + timedelta(hours=25)).isoformat()
    assert spells[-1].end is None


def test_times_are_shown_in_utc_on_a_24_hour_clock():
    assert svg.utc_text("2026-03-02T01:30:00+02:00") == "2026-03-01 23:30 UTC"
    scale = svg.TimeScale(T0, T0 + timedelta(hours=10), 0, 100)
    assert scale("2026-03-02T07:00:00+02:00") == scale(T0 + timedelta(hours=5)) == 50
    ticks = svg.time_ticks(T0, T0 + timedelta(hours=10))
    assert ticks[0] == T0 and all(t.tzinfo == UTC for t in ticks)


def _window(day: int, value: float | None, broke: bool = False):
    start, end = T0 + timedelta(days=day), T0 + timedelta(days=day + 1)
    row = None if value is None else (value, value - 0.05, value + 0.05)
    return start.isoformat(), end.isoformat(), row, broke


def test_a_metric_chart_breaks_at_an_empty_window_and_marks_bands_limits_and_breaches():
    windows = [_window(0, 0.9), _window(1, 0.7, True), _window(2, None), _window(3, 0.92)]
    series = charts.Series("v1", "#123456", [w[0] for w in windows], [w[1] for w in windows],
                           [w[2] for w in windows], [w[2] for w in windows],
                           [w[3] for w in windows], limit=0.8)  # fmt: skip
    scale = svg.TimeScale(T0, T0 + timedelta(days=4), charts.LEFT, charts.WIDTH - charts.RIGHT)
    drawn = charts.metric_chart("Accuracy", [series], scale, "accuracy")
    assert drawn.count("<polyline") == 4  # measured and estimated, each in two runs
    assert drawn.count("<polygon") == 4  # their interval bands
    assert drawn.count('class="breach"') == 1 and 'class="limit"' in drawn
    assert "limit 0.800" in drawn and "2026-03-02" in drawn  # UTC date ticks


def _monitor_report() -> dict:
    window = {"start": "2026-03-02T00:00:00+00:00", "end": "2026-03-03T00:00:00+00:00",
              "predictions": 10, "labelled": 10, "coverage": 1.0, "accuracy": 0.9,
              "accuracy_low": 0.6, "accuracy_high": 0.98, "estimated_accuracy": 0.85,
              "estimated_accuracy_low": 0.7, "estimated_accuracy_high": 1.0, "judged": False,
              "breaches": [], "drift": {"status": "skipped", "reason": "batch"},
              "reliability": []}  # fmt: skip
    version = {"reference": {"accuracy": 0.95}, "windows": [window], "overall": window,
               "limits": {"accuracy": {"limit": 0.9, "why": "test 0.950 - 0.05"}},
               "verdict": "NO VERDICT", "reasons": ["no window has 100 labelled predictions"],
               "estimates": {"status": "unchecked", "reason": "no window has 100"},
               "registry_version": None, "retired": False, "replaced_by": None}  # fmt: skip
    return {"task": "classification", "window": "1d", "since": None, "predictions": 10,
            "sources": "10 batch", "skipped_lines": 0, "versions": {"tabml_model:abc": version},
            "join": {"unmatched": 0, "labels_received": 10, "labelled_ids": 10,
                     "matched": 10},
            "labels_by_source": {"file:labels.csv": 10}, "excluded_sources": [],
            "excluded_labels": 0}  # fmt: skip


def test_a_page_from_report_files_alone_is_offline_and_byte_stable(tmp_path):
    monitor_files.write_report(
        _monitor_report(), tmp_path / "reports/monitor", monitor_files.classification_section
    )
    first = build_site(tmp_path, experiments=False).read_bytes()
    second = build_site(tmp_path, experiments=False).read_bytes()
    assert first == second
    page = first.decode()
    assert not re.search(r"(src|href)=\"(?!#)", page)  # loads nothing, links only in-page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "default-src 'none'" in page  # the browser may fetch nothing at all
    assert "No version is in prod" in page and "make drift" in page  # what to run next
    assert "tabml_model:abc" in page and 'id="chart-accuracy"' in page


def test_the_paired_comparison_of_shadow_and_canary_is_shown(tmp_path):
    import json

    folder = tmp_path / "reports/monitor"
    folder.mkdir(parents=True)
    build_site(tmp_path, experiments=False)
    assert "make serve SHADOW=" in (tmp_path / "reports/site/index.html").read_text()
    metric = {"served": 0.9, "challenger": 0.95, "difference": 0.05,
              "interval": [0.01, 0.09], "better": "higher"}  # fmt: skip
    paired = {"champion": "tabml_model:a", "champion_registry_version": "v1.0.0",
              "pairs": [{"challenger": "tabml_model:b", "registry_version": "v1.1.0",
                         "pairs": 412, "metrics": {"accuracy": metric}}],
              "status": {"shadow v1.1.0": {"scored": 500, "errors": 3, "timeouts": 0,
                                           "dropped": 0, "load_errors": 0}}}  # fmt: skip
    (folder / "paired.json").write_text(json.dumps(paired))
    page = build_site(tmp_path, experiments=False).read_text()
    assert "v1.1.0 (tabml_model:b)" in page and "v1.0.0 (tabml_model:a)" in page
    assert "<td>412</td>" in page and "+0.0500 [+0.0100, +0.0900]" in page
    assert "500 scored, 3 errors" in page
