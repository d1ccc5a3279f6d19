"""The dashboard's charts as inline SVG: the served-version timeline, a metric per window
with its interval bands, limit and breaches, label coverage, a reliability curve and the
training-vs-production bins of a drifted feature.

Pure functions of plain data (`page.py` prepares it); each returns one `<svg>` string.
Hovering a mark shows its numbers (SVG `<title>`, no script).
"""

from dataclasses import dataclass, field

from tabml.dashboard import svg
from tabml.dashboard.svg import BREACH, MUTED, Scale, TimeScale, esc, num, utc_text

WIDTH = 940
LEFT, RIGHT = 120, 16


@dataclass
class Series:
    """One version's windows for one metric: points None where a window has no value."""

    label: str
    color: str
    starts: list[str]  # window starts, in time order (consecutive, gaps as None values)
    ends: list[str]
    measured: list[tuple[float, float, float] | None]  # value, low, high
    estimated: list[tuple[float, float, float] | None]
    breaches: list[bool] = field(default_factory=list)
    limit: float | None = None


def _middle(start: str, end: str, scale: TimeScale) -> float:
    return (scale(start) + scale(end)) / 2


def _band_and_line(series: Series, values, scale, y, dashed: bool, opacity: str) -> list[str]:
    points = [
        None if v is None else (_middle(s, e, scale), v)
        for s, e, v in zip(series.starts, series.ends, values, strict=True)
    ]
    parts = []
    for run in svg.runs(points):
        upper = [(x, y(v[2])) for x, v in run]
        lower = [(x, y(v[1])) for x, v in run]
        if len(run) == 1:  # a lone window: its interval as a short bar
            ((x, _),) = run
            upper, lower = (
                [(x - 3, upper[0][1]), (x + 3, upper[0][1])],
                [(x - 3, lower[0][1]), (x + 3, lower[0][1])],
            )
        parts.append(svg.band(upper, lower, fill=series.color, fill_opacity=opacity))
        attrs = {"stroke": series.color, "stroke_width": "2"}
        if dashed:
            attrs["stroke_dasharray"] = "5 3"
        parts.append(svg.polyline([(x, y(v[0])) for x, v in run], **attrs))
    return parts


def metric_chart(title: str, series: list[Series], scale: TimeScale, metric: str) -> str:
    """Measured (solid line, 95% band) and estimated (dashed, 90% band) per window and
    version, the version's limit (dotted) and breached windows (red circles)."""
    height, top, bottom = 262, 36, 212
    values = [
        v for s in series for row in (*s.measured, *s.estimated) if row is not None for v in row
    ] + [s.limit for s in series if s.limit is not None]
    low = min([*values, 1.0]) if values else 0.0
    step = 0.05 if 1 - low <= 0.3 else 0.1
    low = max(0.0, min((low - 0.02) // step * step, 0.9))  # a whole tick below the lowest
    y = Scale(low, 1.0, bottom, top)
    ticks = [round(low + i * step, 2) for i in range(round((1 - low) / step) + 1)]
    body = [svg.text(LEFT, 16, title, font_weight="600", font_size="13")]
    body += svg.value_axis(y, LEFT, WIDTH - RIGHT, ticks, metric)
    body += svg.time_axis(scale, top, bottom)
    for s in series:
        body += _band_and_line(s, s.estimated, scale, y, dashed=True, opacity="0.12")
        body += _band_and_line(s, s.measured, scale, y, dashed=False, opacity="0.25")
        if s.limit is not None and s.starts:
            x1, x2 = scale(s.starts[0]), scale(s.ends[-1])
            body.append(
                svg.line(
                    x1,
                    y(s.limit),
                    x2,
                    y(s.limit),
                    stroke=s.color,
                    stroke_width="1.5",
                    stroke_dasharray="1 3",
                    class_="limit",
                )
            )
            body.append(
                svg.text(
                    x2 - 2,
                    y(s.limit) - 4,
                    f"limit {s.limit:.3f}",
                    "end",
                    fill=s.color,
                    stroke="white",
                    stroke_width="3",
                    paint_order="stroke",
                )
            )
        for start, end, row, estimated in zip(
            s.starts, s.ends, s.measured, s.estimated, strict=True
        ):
            x = _middle(start, end, scale)
            for kind, found, level in (("measured", row, "95%"), ("estimated", estimated, "90%")):
                if found is None:
                    continue
                tip = (
                    f"{s.label}, window {utc_text(start)}: {kind} {metric} {found[0]:.3f} "
                    f"({level} interval {found[1]:.3f}-{found[2]:.3f})"
                )
                dot = "white" if kind == "estimated" else s.color
                body.append(
                    f'<circle cx="{num(x)}" cy="{num(y(found[0]))}" r="3" fill="{dot}" '
                    f'stroke="{s.color}" class="{kind}">{svg.tooltip(tip)}</circle>'
                )
        for start, end, row, broke in zip(s.starts, s.ends, s.measured, s.breaches, strict=True):
            if broke and row is not None:
                x = _middle(start, end, scale)
                tip = f"{s.label}: window {utc_text(start)} breaks the {metric} limit"
                body.append(
                    f'<circle cx="{num(x)}" cy="{num(y(row[0]))}" r="7" fill="none" '
                    f'stroke="{BREACH}" stroke-width="2" class="breach">'
                    f"{svg.tooltip(tip)}</circle>"
                )
    return svg.svg(WIDTH, height, body, title)


@dataclass
class Spell:
    """A bar on the timeline: a version from `start` to `end`."""

    label: str
    color: str
    start: str
    end: str
    note: str = ""
    rollback: bool = False


@dataclass
class Marker:
    """A point event on the timeline (a retrain decision, an alert)."""

    time: str
    lane: int
    text: str
    color: str
    shape: str = "diamond"  # diamond | circle


def timeline(
    lanes: list[str], bars: list[tuple[int, Spell]], markers: list[Marker], scale: TimeScale
) -> str:
    """One row per lane (prod in the registry, served by version, alerts) over time."""
    row, top = 34, 30
    bottom = top + row * len(lanes)
    body = [svg.text(LEFT, 16, "Timeline (UTC)", font_weight="600", font_size="13")]
    body += svg.time_axis(scale, top, bottom)
    for i, name in enumerate(lanes):
        body.append(svg.text(LEFT - 6, top + i * row + row / 2 + 4, name, "end", fill=MUTED))
        body.append(
            svg.line(
                LEFT, top + (i + 1) * row, WIDTH - RIGHT, top + (i + 1) * row, stroke="#e5e7eb"
            )
        )
    for lane, bar in bars:
        x1, x2 = scale(bar.start), max(scale(bar.end), scale(bar.start) + 2)
        y = top + lane * row + 6
        tip = f"{bar.label}: {utc_text(bar.start)} to {utc_text(bar.end)}" + (
            f". {bar.note}" if bar.note else ""
        )
        stroke = f' stroke="{BREACH}" stroke-width="2"' if bar.rollback else ""
        body.append(
            f'<rect x="{num(x1)}" y="{num(y)}" width="{num(x2 - x1)}" '
            f'height="{num(row - 12)}" rx="3" fill="{bar.color}" fill-opacity="0.85"'
            f'{stroke} class="spell">{svg.tooltip(tip)}</rect>'
        )
        if x2 - x1 > 8 * len(bar.label):
            body.append(
                svg.text(x1 + 6, y + row / 2 - 2, bar.label, fill="white", font_weight="600")
            )
    for marker in markers:
        x, y = scale(marker.time), top + marker.lane * row + row / 2
        if marker.shape == "circle":
            shape = f'<circle cx="{num(x)}" cy="{num(y)}" r="5" fill="{marker.color}"'
        else:
            d = (
                f"M{num(x)},{num(y - 8)} L{num(x + 8)},{num(y)} L{num(x)},{num(y + 8)} "
                f"L{num(x - 8)},{num(y)} Z"
            )
            shape = f'<path d="{d}" fill="{marker.color}" stroke="white"'
        body.append(f'{shape} class="marker">{svg.tooltip(marker.text)}</{shape.split()[0][1:]}>')
    return svg.svg(WIDTH, bottom + 40, body, "Timeline of the served model versions")


def coverage_chart(
    series: list[tuple[str, str, list[str], list[str], list[float]]], scale: TimeScale
) -> str:
    """Share of each window's predictions that have a label, one bar per window."""
    height, top, bottom = 170, 26, 120
    y = Scale(0.0, 1.0, bottom, top)
    body = [svg.text(LEFT, 16, "Label coverage per window", font_weight="600", font_size="13")]
    body += svg.value_axis(y, LEFT, WIDTH - RIGHT, [0.0, 0.5, 1.0], "labelled", ".0%")
    body += svg.time_axis(scale, top, bottom)
    for label, color, starts, ends, shares in series:
        for start, end, share in zip(starts, ends, shares, strict=True):
            x1, x2 = scale(start) + 1, scale(end) - 1
            tip = f"{label}, window {utc_text(start)}: {share:.0%} labelled"
            body.append(
                f'<rect x="{num(x1)}" y="{num(y(share))}" width="{num(max(x2 - x1, 1))}" '
                f'height="{num(bottom - y(share))}" fill="{color}" fill-opacity="0.7">'
                f"{svg.tooltip(tip)}</rect>"
            )
    return svg.svg(WIDTH, height, body, "Label coverage per window")


def reliability_chart(label: str, color: str, curve: list[dict]) -> str:
    """Accuracy against mean confidence per confidence bin (dot area ~ rows), the diagonal
    a calibrated model follows."""
    size, pad = 280, 44
    axis = Scale(0.0, 1.0, pad, size - 20)
    flipped = Scale(0.0, 1.0, size - pad + 10, 20)
    body = [
        svg.line(axis(0), flipped(0), axis(1), flipped(1), stroke="#9ca3af", stroke_dasharray="4 4")
    ]
    for tick in (0.0, 0.5, 1.0):
        body.append(svg.text(axis(tick), size - pad + 24, f"{tick:.1f}", "middle", fill=MUTED))
        body.append(svg.text(pad - 6, flipped(tick) + 4, f"{tick:.1f}", "end", fill=MUTED))
    body.append(svg.text(size / 2 + 10, size - 6, "mean confidence", "middle", fill=MUTED))
    body.append(
        svg.text(
            12,
            size / 2,
            "accuracy",
            "middle",
            fill=MUTED,
            transform=f"rotate(-90 12 {num(size / 2)})",
        )
    )
    points = [(axis(p["confidence"]), flipped(p["accuracy"])) for p in curve]
    if points:
        body.append(svg.polyline(points, stroke=color, stroke_width="2", class_="reliability"))
    largest = max((p["rows"] for p in curve), default=1)
    for point, (x, y) in zip(curve, points, strict=True):
        radius = 3 + 5 * (point["rows"] / largest) ** 0.5
        tip = (
            f"{point['bin']}: confidence {point['confidence']:.3f}, accuracy "
            f"{point['accuracy']:.3f}, {point['rows']} rows"
        )
        body.append(
            f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(radius)}" fill="{color}" '
            f'fill-opacity="0.6">{svg.tooltip(tip)}</circle>'
        )
    return svg.svg(size, size, body, f"Reliability curve of {label}")


def bins_chart(feature: str, rows: list[dict]) -> str:
    """Training vs production share of each bin of one feature (grouped bars)."""
    bins = sorted({(r["bin_index"], r["bin"]) for r in rows})
    share = {(r["bin_index"], r["sample"]): r["share"] for r in rows}
    width, height, top, bottom, left = 300, 170, 22, 120, 34
    y = Scale(0.0, max([*share.values(), 0.01]), bottom, top)
    step = (width - left - 6) / max(len(bins), 1)
    body = [svg.text(left, 14, feature, font_weight="600")]
    for i, (index, label) in enumerate(bins):
        for j, (sample, color) in enumerate((("training", "#9ca3af"), ("production", "#1f77b4"))):
            value = share.get((index, sample), 0.0)
            x = left + i * step + j * step / 2
            tip = f"{feature} {label}: {sample} {value:.1%}"
            body.append(
                f'<rect x="{num(x)}" y="{num(y(value))}" width="{num(step / 2 - 1)}" '
                f'height="{num(bottom - y(value))}" fill="{color}">'
                f"{svg.tooltip(tip)}</rect>"
            )
        if len(bins) <= 12 or i % 2 == 0:
            body.append(
                f'<text x="{num(left + (i + 0.5) * step)}" y="{num(bottom + 10)}" '
                f'text-anchor="end" fill="{MUTED}" font-size="9" '
                f'transform="rotate(-40 {num(left + (i + 0.5) * step)} '
                f'{num(bottom + 10)})">{esc(label)}</text>'
            )
    body.append(svg.line(left, bottom, width - 6, bottom, stroke="#9ca3af"))
    for tick in (0.0, y.high / 2, y.high):
        body.append(
            svg.text(left - 3, y(tick) + 3, f"{tick:.0%}", "end", fill=MUTED, font_size="9")
        )
    return svg.svg(width, height, body, f"Training vs production bins of {feature}")
