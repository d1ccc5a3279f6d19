"""The timeline section: which registry version was in prod when, which model versions the
logs show serving, alerts, retrain decisions; the registry's journal as a table."""

from datetime import timedelta

from tabml.dashboard import charts
from tabml.dashboard.collect import Life
from tabml.dashboard.svg import BREACH, TimeScale, esc, utc, utc_text

LANES = ["prod (registry)", "served (logs)", "alerts"]


def time_scale(life: Life) -> TimeScale | None:
    """One time axis for every chart: from the first event or window to the last."""
    times = [utc(e.time) for e in life.events]
    for version in life.versions.values():
        for w in (version.report or {}).get("windows", []):
            times += [utc(w["start"]), utc(w["end"])]
    if not times:
        return None
    low, high = min(times), max(times)
    margin = max((high - low) * 0.02, timedelta(minutes=5))
    return TimeScale(low - margin, high + margin, charts.LEFT, charts.WIDTH - charts.RIGHT)


def served_runs(windows: list[dict]) -> list[tuple[str, str]]:
    """Consecutive windows merged into (start, end) runs; a window without data splits."""
    found: list[tuple[str, str]] = []
    for w in windows:
        if found and found[-1][1] == w["start"]:
            found[-1] = (found[-1][0], w["end"])
        else:
            found.append((w["start"], w["end"]))
    return found


def _promoted_by_retrain(life: Life):
    """The prod assignment of the challenger the latest retrain decision promoted, if any."""
    decision = life.reports.decision or {}
    challenger = (decision.get("challenger") or {}).get("model_version")
    if decision.get("verdict") != "promote" or not challenger:
        return None
    for event in life.events:
        version = life.by_registry(event.version)
        if event.kind == "assignment" and version is not None and version.tag == challenger:
            return event
    return None


def timeline_svg(life: Life, scale: TimeScale) -> str:
    end = scale.high.isoformat()
    colors = {v.name: v.color for v in life.versions.values()}
    bars = []
    for spell in life.spells:
        note = "rollback" if spell.rollback else ""
        color = colors.get(spell.version, "#6b7280")
        bars.append(
            (
                0,
                charts.Spell(
                    spell.version, color, spell.start, spell.end or end, note, spell.rollback
                ),
            )
        )
    markers = []
    for version in life.versions.values():
        windows = (version.report or {}).get("windows", [])
        for start, stop in served_runs(windows):
            bars.append((1, charts.Spell(version.name, version.color, start, stop)))
        for w in windows:
            if w["breaches"]:
                middle = utc(w["start"]) + (utc(w["end"]) - utc(w["start"])) / 2
                tip = f"{version.name}, window {utc_text(w['start'])}: " + "; ".join(w["breaches"])
                markers.append(charts.Marker(middle.isoformat(), 2, tip, BREACH, "circle"))
    promoted = _promoted_by_retrain(life)
    if promoted is not None:
        reasons = "; ".join(life.reports.decision.get("reasons") or [])
        markers.append(
            charts.Marker(promoted.time, 0, f"retrain decision PROMOTE: {reasons}", "#111827")
        )
    for event in life.events:
        if event.rollback:
            markers.append(charts.Marker(event.time, 0, f"rollback to {event.version}", BREACH))
    return charts.timeline(LANES, bars, markers, scale)


def events_table(life: Life) -> str:
    """The registry's journal, newest first, with the retrain decision where it applies."""
    decision = life.reports.decision or {}
    promoted = _promoted_by_retrain(life)
    rows = []
    for event in reversed(life.events):
        what = {"registration": "registered", "assignment": f"promoted to {event.stage}"}.get(
            event.kind, f"{event.kind} {event.stage or ''}".strip()
        )
        if event.rollback:
            what = f"rolled back ({what})"
        detail = event.message
        if event == promoted:
            detail += " | retrain decision PROMOTE: " + "; ".join(decision.get("reasons") or [])
        rows.append(
            f"<tr><td>{esc(utc_text(event.time))}</td><td>{esc(event.version)}</td>"
            f"<td>{esc(what)}</td><td>{esc(detail)}</td></tr>"
        )
    if decision.get("verdict") == "keep":
        champion = (decision.get("champion") or {}).get("version")
        reasons = "; ".join(decision.get("reasons") or [])
        rows.insert(
            0,
            f"<tr><td>(latest retrain; its time is not recorded)</td><td>"
            f"{esc(champion)}</td><td>kept by make retrain</td><td>{esc(reasons)}"
            "</td></tr>",
        )
    if not rows:
        return "<p>No registry events yet: <code>make register VERSION=v1.0.0</code>.</p>"
    head = "<th>time (UTC)</th><th>version</th><th>event</th><th>why / message</th>"
    return (
        f'<table id="events"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def legend(life: Life) -> str:
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{v.color}"></span>'
        f"{esc(v.name)} <code>{esc(v.tag)}</code></span>"
        for v in life.versions.values()
    )
    return f'<p class="legend">{items}</p>'


def timeline_section(life: Life, scale: TimeScale | None) -> str:
    if scale is None:
        body = (
            "<p>Nothing to draw yet: no registry events and no monitored predictions "
            "(<code>make register</code>, <code>make monitor</code>).</p>"
        )
    else:
        body = legend(life) + timeline_svg(life, scale)
    return (
        '<section id="timeline"><h2>Timeline</h2>'
        + body
        + "<h3>Registry events</h3>"
        + events_table(life)
        + "</section>"
    )
