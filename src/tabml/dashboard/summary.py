"""The page's first box, in sentences: which version is in prod and since when, how it did
over the last 7 days of data, and why the version before it was replaced."""

from tabml.dashboard.collect import RECENT, Life, Version
from tabml.dashboard.svg import esc, readable_times, utc, utc_text
from tabml.monitoring.live_metrics import wilson_interval


def recent_performance(version: Version, life: Life) -> list[str]:
    """Sentences on the version's windows in the 7 days up to the newest window."""
    newest = life.newest_window_end()
    if version.report is None or newest is None:
        return ["No predictions of this version in the monitor report yet (`make monitor`)."]
    since = newest - RECENT
    windows = [w for w in version.report["windows"] if utc(w["end"]) > since]
    if not windows:
        return [f"No predictions between {utc_text(since)} and {utc_text(newest)}."]
    predictions = sum(w["predictions"] for w in windows)
    labelled = sum(w["labelled"] for w in windows)
    period = f"{utc_text(max(since, utc(windows[0]['start'])))} to {utc_text(newest)}"
    lines = [
        f"{period}: {predictions:,} predictions in {len(windows)} windows, "
        f"{labelled:,} labelled ({labelled / predictions:.0%})."
    ]
    with_labels = [w for w in windows if w.get("accuracy") is not None]
    if with_labels:
        correct = round(sum(w["accuracy"] * w["labelled"] for w in with_labels))
        low, high = wilson_interval(correct, labelled)
        lines.append(
            f"Measured accuracy {correct / labelled:.3f} (95% CI {low:.3f}-{high:.3f}) "
            f"on the labelled predictions."
        )
    waiting = [w for w in windows if w["labelled"] == 0 and w.get("estimated_accuracy_low")]
    if waiting:
        spans = ", ".join(
            f"{utc_text(w['start'], minutes=False)} {w['estimated_accuracy']:.3f} "
            f"({w['estimated_accuracy_low']:.3f}-{w['estimated_accuracy_high']:.3f})"
            for w in waiting
        )
        lines.append(f"Without labels yet, estimated accuracy (90% interval): {spans}.")
    broken = [w for w in windows if w["breaches"]]
    lines.append(
        f"{len(broken)} window(s) broke an alert limit: "
        + "; ".join(f"{utc_text(w['start'], minutes=False)}: {w['breaches'][0]}" for w in broken)
        if broken
        else "No window broke an alert limit."
    )
    trust = version.report.get("estimates") or {}
    if trust.get("status") == "poor":
        lines.append(f"Estimates not to be trusted: {trust['reason']}.")
    return lines


def why_replaced(life: Life) -> list[str]:
    """Why the spell before the current one ended: a rollback, a retrain decision, or the
    registry's messages; plus what the monitor said about the replaced version."""
    if len(life.spells) < 2:
        return []
    before, now = life.spells[-2], life.spells[-1]
    old, new = life.by_registry(before.version), life.by_registry(now.version)
    lines = [
        f"{before.version} was in prod from {utc_text(before.start)} to "
        f"{utc_text(before.end)}; then {now.version} replaced it."
    ]
    decision = life.reports.decision or {}
    challenger = (decision.get("challenger") or {}).get("model_version")
    if now.rollback:
        lines.append(f"Rollback: {now.version} was registered before {before.version}.")
    elif decision.get("verdict") == "promote" and new and challenger == new.tag:
        lines.append(
            f"make retrain promoted a challenger trained on labelled production "
            f"data: {'; '.join(decision.get('reasons') or [])}."
        )
    else:
        assignment = next(
            (
                e
                for e in reversed(life.events)
                if e.kind == "assignment" and e.version == now.version
            ),
            None,
        )
        if assignment is not None:
            lines.append(f"Registry: {assignment.message} (by {assignment.author}).")
    if old and old.report and old.report["verdict"] == "ALERT":
        lines.append(
            f"The monitor's verdict on {before.version}: ALERT, {'; '.join(old.report['reasons'])}."
        )
    return lines


def summary_html(life: Life) -> str:
    """The 'at a glance' box."""
    if not life.spells:
        current = None
        head = (
            "<p><strong>No version is in prod</strong>: nothing registered and promoted "
            "yet (<code>make register VERSION=v1.0.0</code>, <code>make promote "
            "VERSION=v1.0.0 STAGE=prod</code>).</p>"
        )
    else:
        spell = life.spells[-1]
        current = life.by_registry(spell.version)
        model = f" (<code>{esc(current.tag)}</code>)" if current else ""
        how = "rolled back to" if spell.rollback else "promoted"
        head = (
            f'<p class="lead">In prod: <strong id="prod-version">{esc(spell.version)}'
            f"</strong>{model}, since <strong>{esc(utc_text(spell.start))}</strong> "
            f"({how}).</p>"
        )
    parts = [head]
    shown = current or next(iter(life.versions.values()), None)
    if shown is not None:
        items = "".join(
            f"<li>{esc(readable_times(s))}</li>" for s in recent_performance(shown, life)
        )
        parts.append(f"<h3>Last 7 days of data: {esc(shown.name)}</h3><ul>{items}</ul>")
    replaced = why_replaced(life)
    if replaced:
        items = "".join(f"<li>{esc(readable_times(s))}</li>" for s in replaced)
        parts.append(f"<h3>Why the previous version was replaced</h3><ul>{items}</ul>")
    return '<section id="summary" class="box">' + "".join(parts) + "</section>"
