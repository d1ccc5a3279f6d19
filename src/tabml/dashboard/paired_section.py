"""The dashboard's shadow-and-canary section: `make monitor`'s paired comparison
(reports/monitor/paired.json): the champion against each challenger on the same labelled
requests, and each challenger's counts."""

from tabml.dashboard.collect import Life
from tabml.dashboard.svg import esc


def _name(tag: str, registry_version: str | None) -> str:
    return f"{registry_version} ({tag})" if registry_version else tag


def paired_section(life: Life) -> str:
    paired = life.reports.paired
    if not paired or not (paired.get("pairs") or paired.get("status")):
        return (
            '<section id="paired"><h2>Shadow and canary</h2><p>None yet: <code>make serve '
            "SHADOW=&lt;version&gt;</code> or <code>CANARY=&lt;version&gt;:&lt;share&gt;</code>,"
            " labels, then <code>make monitor</code>.</p></section>"
        )
    champion = _name(paired["champion"], paired.get("champion_registry_version"))
    rows = []
    for pair in paired.get("pairs") or []:
        for metric, found in pair["metrics"].items():
            low, high = found["interval"]
            rows.append(
                f"<tr><td>{esc(_name(pair['challenger'], pair.get('registry_version')))}</td>"
                f"<td>{pair['pairs']:,}</td><td>{esc(metric)} ({esc(found['better'])} is "
                f"better)</td><td>{found['served']:.4f}</td><td>{found['challenger']:.4f}</td>"
                f"<td>{found['difference']:+.4f} [{low:+.4f}, {high:+.4f}]</td></tr>"
            )
    counts = "".join(
        f"<li>{esc(key)}: {c.get('scored', 0):,} scored, {c.get('errors', 0):,} errors, "
        f"{c.get('timeouts', 0):,} timeouts, {c.get('dropped', 0):,} dropped"
        + (f", load failed: {esc(c['load_error'])}" if c.get("load_error") else "")
        + "</li>"
        for key, c in (paired.get("status") or {}).items()
    )
    return (
        '<section id="paired"><h2>Shadow and canary</h2>'
        f"<p>Champion <code>{esc(champion)}</code> against each model that scored the same "
        "labelled requests (difference: challenger minus champion, 95% paired bootstrap "
        'interval).</p><table id="paired-table"><thead><tr><th>challenger</th><th>pairs'
        "</th><th>metric</th><th>champion</th><th>challenger</th><th>difference</th></tr>"
        "</thead><tbody>" + "".join(rows) + f"</tbody></table><ul>{counts}</ul></section>"
    )
