"""Signatures per day as an SVG bar chart drawn on the server: no JavaScript, and readable
without colour (dark bars on white, each number written out)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

WIDTH = 800
HEIGHT = 260
PAD_X = 40  # half a date label, so the first and last dates are not cut off
TOP = 24  # room for the number above the tallest bar
BOTTOM = 28  # room for the dates
INK = "#1a1a1a"
GRID = "#767676"
PAPER = "#ffffff"
VALUE_FONT = 14
DATE_FONT = 13
WIDEST_BAR = 56  # a campaign of a few days gets bars, not a wall of ink
CHAR_WIDTH = 0.62  # an average glyph's width, in ems, in a sans-serif font
EMPTY = "No signatures yet"


def _filled(per_day: Iterable[tuple[str, int]]) -> list[tuple[date, int]]:
    """Every day from the first to the last, with zero for the days nobody signed."""
    counts: dict[date, int] = {}
    for day, n in per_day:
        key = date.fromisoformat(day)
        counts[key] = counts.get(key, 0) + int(n)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0))
        for i in range((last - first).days + 1)
    ]


def _step(label_chars: int, font: int, slot: float) -> int:
    """Label every Nth bar so that labels of this many characters never overlap."""
    return max(1, math.ceil((label_chars * font * CHAR_WIDTH + 6) / slot))


def _ids(title: str, days: list[tuple[str, int]]) -> str:
    # Stable for the same chart, distinct for two charts on one page.
    digest = hashlib.blake2s(repr((title, days)).encode(), digest_size=4).hexdigest()
    return f"chart-{digest}"


def _empty(title: str) -> Markup:
    ident = _ids(title, [])
    # The title is escaped; everything else is a constant.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 60" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{EMPTY}</desc>'
        f'<rect width="400" height="60" fill="{PAPER}"/>'
        f'<text x="200" y="35" text-anchor="middle" font-size="14" fill="{INK}">{EMPTY}</text>'
        f"</svg>"
    )


def per_day_svg(per_day: Iterable[tuple[str, int]], title: str) -> Markup:
    """An accessible SVG bar chart of ("YYYY-MM-DD", n) pairs, gaps drawn as zero days."""
    days = _filled(per_day)
    if not days or max(n for _, n in days) <= 0:
        return _empty(title)
    top = max(n for _, n in days)
    busiest = next(day for day, n in days if n == top)
    summary = (
        f"{sum(n for _, n in days)} signatures over {len(days)} days, from "
        f"{days[0][0].isoformat()} to {days[-1][0].isoformat()}; the most in one day: {top} on "
        f"{busiest.isoformat()}."
    )
    return _bars([(day.isoformat(), n) for day, n in days], title, summary)


def per_hour_svg(per_hour: Iterable[tuple[str, int]], title: str) -> Markup:
    """The same for ("YYYY-MM-DDTHH", n) pairs (UTC), every hour from the first to the last,
    labelled by the hour: for a campaign in its first day, when days are too coarse."""
    counts: dict[datetime, int] = {}
    for hour, n in per_hour:
        key = datetime.fromisoformat(hour + ":00:00")
        counts[key] = counts.get(key, 0) + int(n)
    if not counts or max(counts.values()) <= 0:
        return _empty(title)
    first, last = min(counts), max(counts)
    hours = [
        first + timedelta(hours=i) for i in range(int((last - first).total_seconds() // 3600) + 1)
    ]
    points = [(f"{h:%H}:00", counts.get(h, 0)) for h in hours]
    top = max(n for _, n in points)
    busiest = next(h for h in hours if counts.get(h, 0) == top)
    summary = (
        f"{sum(counts.values())} signatures over {len(hours)} hour"
        f"{'' if len(hours) == 1 else 's'} (UTC), from "
        f"{first:%Y-%m-%d %H}:00 to {last:%Y-%m-%d %H}:00; the most in one hour: {top}, "
        f"at {busiest:%Y-%m-%d %H}:00."
    )
    return _bars(points, title, summary)


def _bars(points: list[tuple[str, int]], title: str, summary: str) -> Markup:
    """The bar chart itself: a bar per point, the busiest and every other value that fits
    written above its bar, as many labels below as fit, and a scale on the left."""
    top = max(n for _, n in points)
    ident = _ids(title, points)
    slot = (WIDTH - 2 * PAD_X) / len(points)
    bar = min(max(slot * 0.8, 0.5), WIDEST_BAR)
    scale = (HEIGHT - TOP - BOTTOM) / top
    baseline = HEIGHT - BOTTOM
    busiest = next(i for i, (_, n) in enumerate(points) if n == top)

    value_step = _step(len(str(top)), VALUE_FONT, slot)
    # The maximum is always labelled; its neighbours give way so that nothing overlaps.
    valued = {i for i in range(0, len(points), value_step) if abs(i - busiest) >= value_step}
    valued.add(busiest)
    label_step = _step(max(len(label) for label, _ in points), DATE_FONT, slot)

    bars, values, labels = [], [], []
    for i, (label, n) in enumerate(points):
        centre = PAD_X + slot * (i + 0.5)
        height = n * scale
        bars.append(
            f'<rect x="{centre - bar / 2:.1f}" y="{baseline - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}"><title>{label}: {n}</title></rect>'
        )
        if i in valued:
            values.append(f'<text x="{centre:.1f}" y="{baseline - height - 4:.1f}">{n}</text>')
        if i % label_step == 0:
            labels.append(f'<text x="{centre:.1f}" y="{baseline + 16}">{label}</text>')
    # A light line at the top value, so that the bars can be read against it.
    level = baseline - top * scale
    grid = (
        f'<line x1="{PAD_X}" y1="{level:.1f}" x2="{WIDTH - PAD_X}" y2="{level:.1f}" '
        f'stroke="{GRID}" stroke-width="1" stroke-dasharray="4 4"/>'
    )
    # The title is escaped; everything else is a number, a date, an hour or a constant.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{summary}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{PAPER}"/>{grid}'
        f'<g fill="{INK}">{"".join(bars)}</g>'
        f'<line x1="{PAD_X}" y1="{baseline}" x2="{WIDTH - PAD_X}" y2="{baseline}" '
        f'stroke="{INK}" stroke-width="1"/>'
        f'<g fill="{INK}" font-size="{VALUE_FONT}" text-anchor="middle">{"".join(values)}</g>'
        f'<g fill="{INK}" font-size="{DATE_FONT}" text-anchor="middle">{"".join(labels)}</g>'
        f"</svg>"
    )
