"""Signatures per day as an SVG bar chart drawn on the server: no JavaScript, and readable
without colour (dark bars on white, each number written out)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import date, timedelta

from markupsafe import Markup, escape

WIDTH = 800
HEIGHT = 260
PAD_X = 40  # half a date label, so the first and last dates are not cut off
TOP = 24  # room for the number above the tallest bar
BOTTOM = 28  # room for the dates
INK = "#1a1a1a"
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


def _ids(title: str, days: list[tuple[date, int]]) -> str:
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
    top = max((n for _, n in days), default=0)
    if top <= 0:
        return _empty(title)
    ident = _ids(title, days)
    slot = (WIDTH - 2 * PAD_X) / len(days)
    bar = min(max(slot * 0.8, 0.5), WIDEST_BAR)
    scale = (HEIGHT - TOP - BOTTOM) / top
    baseline = HEIGHT - BOTTOM
    busiest = next(i for i, (_, n) in enumerate(days) if n == top)

    value_step = _step(len(str(top)), VALUE_FONT, slot)
    # The maximum is always labelled; its neighbours give way so that nothing overlaps.
    valued = {i for i in range(0, len(days), value_step) if abs(i - busiest) >= value_step}
    valued.add(busiest)
    date_step = _step(10, DATE_FONT, slot)

    bars, values, dates = [], [], []
    for i, (day, n) in enumerate(days):
        centre = PAD_X + slot * (i + 0.5)
        height = n * scale
        bars.append(
            f'<rect x="{centre - bar / 2:.1f}" y="{baseline - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}"><title>{day.isoformat()}: {n}</title></rect>'
        )
        if i in valued:
            values.append(f'<text x="{centre:.1f}" y="{baseline - height - 4:.1f}">{n}</text>')
        if i % date_step == 0:
            dates.append(f'<text x="{centre:.1f}" y="{baseline + 16}">{day.isoformat()}</text>')

    total = sum(n for _, n in days)
    summary = (
        f"{total} signatures over {len(days)} days, from {days[0][0].isoformat()} to "
        f"{days[-1][0].isoformat()}; the most in one day: {top} on {days[busiest][0].isoformat()}."
    )
    # The title is escaped; everything else is a number, an ISO date or a constant.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{summary}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{PAPER}"/>'
        f'<g fill="{INK}">{"".join(bars)}</g>'
        f'<line x1="{PAD_X}" y1="{baseline}" x2="{WIDTH - PAD_X}" y2="{baseline}" '
        f'stroke="{INK}" stroke-width="1"/>'
        f'<g fill="{INK}" font-size="{VALUE_FONT}" text-anchor="middle">{"".join(values)}</g>'
        f'<g fill="{INK}" font-size="{DATE_FONT}" text-anchor="middle">{"".join(dates)}</g>'
        f"</svg>"
    )
