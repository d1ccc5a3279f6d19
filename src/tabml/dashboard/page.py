"""The HTML page: a strict offline policy, the style sheet, and the sections in order.

The page loads nothing: the Content-Security-Policy allows no script, no connection and no
file beyond the page itself (inline styles only), so even a link pasted into a report cannot
make the browser fetch anything.
"""

from tabml.dashboard import documents, performance, summary, timeline
from tabml.dashboard.collect import Life
from tabml.dashboard.paired_section import paired_section
from tabml.dashboard.svg import esc

POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #111827; margin: 0; background: #f8fafc; }
main { max-width: 980px; margin: 0 auto; padding: 16px 20px 60px; }
h1 { font-size: 22px; margin: 8px 0 2px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
nav a { margin-right: 12px; color: #1d4ed8; text-decoration: none; }
.box { background: white; border: 1px solid #d1d5db; border-radius: 8px; padding: 4px 16px 8px; }
.lead { font-size: 17px; } .muted, .key { color: #4b5563; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; background: white; }
th, td { border: 1px solid #e5e7eb; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } .scroll { overflow-x: auto; }
td:first-child { white-space: nowrap; }
.breach-row td { background: #fef2f2; } .verdict-drift td, .verdict-AL { color: #b91c1c; }
.verdict-OK { color: #15803d; } .verdict-warning td { color: #b45309; }
figure { margin: 10px 0; }
.chart { background: white; border: 1px solid #e5e7eb; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; } .card { background: white;
  border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px; margin: 0; }
figcaption { font-size: 12px; color: #374151; max-width: 280px; }
.legend .key { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px;
  vertical-align: -1px; }
details { margin: 8px 0; } summary { cursor: pointer; }
.markdown { background: white; border: 1px solid #e5e7eb; border-radius: 6px; padding: 2px 14px; }
code { font-size: 12px; background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
"""

SECTIONS = (
    ("summary", "At a glance"),
    ("timeline", "Timeline"),
    ("performance", "Performance"),
    ("drift", "Drift"),
    ("retrain", "Retrain"),
    ("cards", "Model cards"),
    ("review", "Review"),
    ("experiments", "Experiments"),
)


def render(life: Life, title: str) -> str:
    """The whole page as text (same `life`, same bytes)."""
    scale = timeline.time_scale(life)
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in SECTIONS)
    body = [
        f"<h1>{esc(title)}</h1>",
        '<p class="muted">Built by <code>make dashboard</code> from the files the pipeline, '
        "<code>make monitor</code>, <code>make drift</code>, <code>make retrain</code>, "
        "<code>make report</code> and the registry's git tags hold. All times are UTC "
        "(24-hour clock). Hover a mark for its numbers.</p>",
        f"<nav>{nav}</nav>",
        summary.summary_html(life),
        timeline.timeline_section(life, scale),
        performance.performance_section(life, scale),
        documents.drift_section(life),
        documents.decision_section(life),
        paired_section(life),
        documents.cards_section(life),
        documents.review_section(life),
        documents.experiments_section(life),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )
