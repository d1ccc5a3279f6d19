"""The sections built from other commands' reports: drift per feature, the latest retrain
decision, model cards, the latest review and the experiments table."""

import re

from markdown_it import MarkdownIt

from tabml.dashboard import charts
from tabml.dashboard.collect import Life
from tabml.dashboard.svg import esc

# CommonMark with tables; raw HTML in a report is shown as text, never interpreted.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
EXPERIMENT_METRICS = ("accuracy", "f1_macro", "roc_auc_ovr", "log_loss")


def markdown(text: str) -> str:
    """A report's markdown as HTML (HTML comments, e.g. the review's marker, dropped)."""
    return '<div class="markdown">' + _MARKDOWN.render(_COMMENT.sub("", text)) + "</div>"


def drift_section(life: Life) -> str:
    drift = life.reports.drift
    if drift is None:
        return (
            '<section id="drift"><h2>Drift</h2><p>No drift report yet: <code>make drift'
            "</code> writes <code>reports/drift/</code>.</p></section>"
        )
    rows = []
    order = sorted(
        drift["features"].items(), key=lambda item: (item[1]["verdict"] != "drift", item[0])
    )
    for name, found in order:
        ks = (
            f"D={found['ks_statistic']:.3f} p={found['ks_pvalue']:.2g}"
            if found.get("ks_statistic") is not None
            else "-"
        )
        rows.append(
            f'<tr class="verdict-{esc(found["verdict"])}"><td>{esc(name)}</td>'
            f"<td>{esc(found['verdict'].upper())}</td><td>{found['psi']:.3f}</td>"
            f"<td>{esc(ks)}</td><td>{esc('; '.join(found.get('reasons') or []))}</td></tr>"
        )
    charts_html = ""
    for name, _ in order:
        rows_of = [r for r in life.reports.drift_bins if r["feature"] == name]
        charts_html += f'<figure class="card">{charts.bins_chart(name, rows_of)}</figure>'
    drifted = ", ".join(drift["drifted"]) or "none"
    return (
        '<section id="drift"><h2>Drift</h2>'
        f"<p>{drift['rows']:,} production rows ({esc(drift['source'])}) against "
        f"{drift['training_rows']:,} training rows; drifted: <strong>{esc(drifted)}"
        "</strong>. Per window and version, the drift verdicts are in the tables above.</p>"
        '<table id="drift-table"><thead><tr><th>feature</th><th>verdict</th><th>PSI</th>'
        "<th>KS</th><th>why</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        '<p class="legend"><span class="key"><span class="swatch" style="background:'
        '#9ca3af"></span>training</span><span class="key"><span class="swatch" '
        'style="background:#1f77b4"></span>production</span></p>'
        f'<div class="cards">{charts_html}</div></section>'
    )


def _comparison_row(name: str, found: dict) -> str:
    if "accuracy" not in found:
        return ""
    return (
        f"<tr><td>{esc(name)}</td><td>{found['rows']:,}</td><td>{found['accuracy']:.4f} "
        f"({found['accuracy_low']:.4f}-{found['accuracy_high']:.4f})</td>"
        f"<td>{found['f1_macro']:.4f} ({found['f1_macro_low']:.4f}-"
        f"{found['f1_macro_high']:.4f})</td><td>{found['log_loss']:.4f}</td></tr>"
    )


def decision_section(life: Life) -> str:
    decision = life.reports.decision
    if decision is None:
        return (
            '<section id="retrain"><h2>Latest retrain decision</h2><p>None yet: '
            "<code>make retrain</code>.</p></section>"
        )
    champion, challenger = decision["champion"], decision["challenger"]
    rows = _comparison_row(f"champion {champion['version']}", champion.get("comparison") or {})
    rows += _comparison_row("challenger", challenger.get("comparison") or {})
    table = (
        (
            "<table><thead><tr><th>model</th><th>rows</th><th>accuracy (95%)</th>"
            "<th>macro F1 (95%)</th><th>log loss</th></tr></thead><tbody>"
            + rows
            + "</tbody></table>"
        )
        if rows
        else ""
    )
    reasons = "".join(f"<li>{esc(r)}</li>" for r in decision.get("reasons") or [])
    return (
        '<section id="retrain"><h2>Latest retrain decision: '
        f"{esc(decision['verdict'].upper())}</h2><p>Champion {esc(champion['version'])} "
        f"<code>{esc(champion['model_version'])}</code>; challenger "
        f"<code>{esc(challenger.get('model_version') or '-')}</code> from branch "
        f"<code>{esc(challenger.get('branch') or '-')}</code>.</p>{table}"
        f"<ul>{reasons}</ul></section>"
    )


def cards_section(life: Life) -> str:
    parts = []
    if life.reports.model_card:
        parts.append(
            "<details open><summary>The workspace's model "
            "(<code>reports/model_card.md</code>)</summary>"
            f"{markdown(life.reports.model_card)}</details>"
        )
    for version in reversed(list(life.versions.values())):
        if version.registry and version.registry.card:
            parts.append(
                f"<details><summary>{esc(version.name)} <code>{esc(version.tag)}"
                f"</code> (registered)</summary>{markdown(version.registry.card)}"
                "</details>"
            )
    body = "".join(parts) or "<p>No model card yet: <code>make repro</code>.</p>"
    return f'<section id="cards"><h2>Model cards</h2>{body}</section>'


def review_section(life: Life) -> str:
    body = (
        markdown(life.reports.review)
        if life.reports.review
        else (
            "<p>No review yet: <code>make report</code> writes "
            "<code>reports/review/report.md</code>.</p>"
        )
    )
    return f'<section id="review"><h2>Latest review</h2>{body}</section>'


def _value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def experiments_section(life: Life) -> str:
    from tabml.experiments.runs import varying_params

    rows = life.experiments
    if not rows:
        note = life.experiments_note or "no commits or experiments with metrics"
        return f'<section id="experiments"><h2>Experiments</h2><p>{esc(note)}.</p></section>'
    params = ["train.model", *[p for p in varying_params(rows) if p != "train.model"]][:6]
    metrics = [m for m in EXPERIMENT_METRICS if any(m in r.metrics for r in rows)]
    head = "".join(f"<th>{esc(h)}</th>" for h in ["experiment", "state", *params, *metrics])
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{esc(_value(c))}</td>"
            for c in [
                r.label,
                r.state,
                *(r.params.get(p) for p in params),
                *(r.metrics.get(m) for m in metrics),
            ]
        )
        + "</tr>"
        for r in rows
    )
    return (
        '<section id="experiments"><h2>Experiments</h2><p>The last 10 commits and their '
        "experiments (<code>dvc exp show -n 10</code>): test-set metrics.</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}'
        "</tbody></table></div></section>"
    )
