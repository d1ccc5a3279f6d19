"""SVG building blocks: scales, axes, paths and marks as text, with stable bytes.

Every number is written with one decimal (pixels) so the same data gives the same file;
every text goes through `esc`. Charts (`charts.py`) compose these.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
BREACH = "#d62728"
MUTED = "#6b7280"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate: one decimal, no trailing `.0`, no `-0`."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def utc(stamp: str | datetime) -> datetime:
    """An ISO time (any zone) or datetime as an aware UTC datetime."""
    found = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    return (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(UTC)


def utc_text(stamp: str | datetime, minutes: bool = True) -> str:
    """`2026-11-02 14:05 UTC` (24-hour clock), or the day only."""
    return utc(stamp).strftime("%Y-%m-%d %H:%M UTC" if minutes else "%Y-%m-%d")


_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z)")


def readable_times(text: str) -> str:
    """ISO times inside a message (the monitor's reasons) written as `utc_text` does."""
    return _ISO_TIME.sub(lambda found: utc_text(found.group().replace("Z", "+00:00")), text)


@dataclass(frozen=True)
class Scale:
    """A linear map from a data range to a pixel range."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


@dataclass(frozen=True)
class TimeScale:
    """UTC times to pixels."""

    low: datetime
    high: datetime
    start: float
    end: float

    def __call__(self, stamp: str | datetime) -> float:
        span = (self.high - self.low).total_seconds() or 1.0
        offset = (utc(stamp) - self.low).total_seconds()
        return self.start + offset / span * (self.end - self.start)


def time_ticks(low: datetime, high: datetime, most: int = 8) -> list[datetime]:
    """Tick times at whole days (or hours for short spans), at most about `most` of them."""
    span = (high - low).total_seconds()
    steps = [3600 * h for h in (1, 2, 3, 6, 12)] + [86400 * d for d in (1, 2, 7, 14, 28)]
    step = next((s for s in steps if span / s <= most), steps[-1])
    first = datetime.fromtimestamp(-(-low.timestamp() // step) * step, tz=UTC)
    ticks, tick = [], first
    while tick <= high:
        ticks.append(tick)
        tick += timedelta(seconds=step)
    return ticks


def attributes(attrs: dict[str, str]) -> str:
    """` name="value"` pairs in name order; `fill_opacity` -> `fill-opacity`, `class_` ->
    `class`."""
    return "".join(
        f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in sorted(attrs.items())
    )


def svg(width: float, height: float, body: Iterable[str], label: str) -> str:
    """An inline SVG element with an accessible name."""
    return (
        f'<svg role="img" aria-label="{esc(label)}" '
        f'viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" '
        f"{FONT}>" + "".join(body) + "</svg>"
    )


def text(x: float, y: float, content: object, anchor: str = "start", **attrs: str) -> str:
    extra = attributes(attrs)
    return f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}"{extra}>{esc(content)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, **attrs: str) -> str:
    extra = attributes(attrs)
    return f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"{extra}/>'


def tooltip(content: str) -> str:
    return f"<title>{esc(content)}</title>"


def polyline(points: Sequence[tuple[float, float]], **attrs: str) -> str:
    extra = attributes(attrs)
    coordinates = " ".join(f"{num(x)},{num(y)}" for x, y in points)
    return f'<polyline points="{coordinates}" fill="none"{extra}/>'


def band(
    upper: Sequence[tuple[float, float]], lower: Sequence[tuple[float, float]], **attrs: str
) -> str:
    """A filled area between two lines (`lower` in the same x order as `upper`)."""
    extra = attributes(attrs)
    outline = [*upper, *reversed(lower)]
    coordinates = " ".join(f"{num(x)},{num(y)}" for x, y in outline)
    return f'<polygon points="{coordinates}"{extra}/>'


def runs(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a series at None (a window without data) into runs drawn separately."""
    found, current = [], []
    for point in points:
        if point is None:
            if current:
                found.append(current)
            current = []
        else:
            current.append(point)
    if current:
        found.append(current)
    return found


def value_axis(
    scale: Scale, left: float, right: float, ticks: Sequence[float], label: str, fmt: str = ".2f"
) -> list[str]:
    """Horizontal grid lines with their values on the left, and the axis title."""
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(line(left, y, right, y, stroke="#e5e7eb"))
        parts.append(text(left - 4, y + 4, format(tick, fmt), "end", fill=MUTED))
    middle = (scale.start + scale.end) / 2
    parts.append(
        text(12, middle, label, "middle", transform=f"rotate(-90 12 {num(middle)})", fill=MUTED)
    )
    return parts


def time_axis(scale: TimeScale, top: float, bottom: float, title: str = "time (UTC)") -> list[str]:
    """Vertical grid lines at ticks, dates (UTC, 24-hour) under the chart, the axis title."""
    ticks = time_ticks(scale.low, scale.high)
    daily = all(t.hour == 0 for t in ticks)
    parts = []
    for tick in ticks:
        x = scale(tick)
        parts.append(line(x, top, x, bottom, stroke="#f0f0f0"))
        label = tick.strftime("%Y-%m-%d" if daily else "%m-%d %H:%M")
        parts.append(text(x, bottom + 14, label, "middle", fill=MUTED))
    parts.append(text((scale.start + scale.end) / 2, bottom + 30, title, "middle", fill=MUTED))
    return parts
