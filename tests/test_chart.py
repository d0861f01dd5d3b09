"""The per-day SVG chart: gaps drawn as zero days, the maximum always labelled, text
escaped, valid XML, and an empty chart that says so."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from markupsafe import Markup

from tests.conftest import sealed_signature, signer
from widget.campaigns import load_file
from widget.chart import DATE_FONT, EMPTY, VALUE_FONT, WIDEST_BAR, per_day_svg, per_hour_svg
from widget.resources import resource
from widget.store import open_store

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("viewBox")
    for ident in root.get("aria-labelledby").split():
        assert root.find(f".//*[@id='{ident}']") is not None
    return root


def bars(root: ET.Element) -> list[tuple[str, float]]:
    """(tooltip, height) of every bar, left to right."""
    found = []
    for rect in root.iter(SVG + "rect"):
        tip = rect.find(SVG + "title")
        if tip is not None:
            found.append((tip.text, float(rect.get("height"))))
    return found


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(SVG + "text")]


def test_gaps_between_days_are_zero_bars():
    root = parse(per_day_svg([("2026-11-20", 3), ("2026-11-23", 6)], "Per day"))
    drawn = bars(root)
    assert [tip for tip, _ in drawn] == [
        "2026-11-20: 3",
        "2026-11-21: 0",
        "2026-11-22: 0",
        "2026-11-23: 6",
    ]
    heights = [h for _, h in drawn]
    assert heights[1] == heights[2] == 0
    assert heights[3] == pytest.approx(2 * heights[0])
    assert "2026-11-21" in texts(root)  # few days: every date is written


@pytest.mark.parametrize("peak_day", [0, 57, 137, 364])
def test_many_days_label_every_nth_bar_and_always_the_maximum(peak_day):
    start = date(2026, 1, 1)
    days = [((start + timedelta(days=d)).isoformat(), 10 + d % 7) for d in range(365)]
    days[peak_day] = (days[peak_day][0], 98765)
    root = parse(per_day_svg(days, "A long campaign"))
    written = texts(root)
    assert "98765" in written
    numbers = [t for t in written if t.isdigit()]
    dates = [t for t in written if "-" in t]
    assert 2 <= len(numbers) < 60  # thinned, not one per bar
    assert 2 <= len(dates) < 20


def test_labels_do_not_overlap():
    days = [(f"2026-11-{d:02d}", d * 1000) for d in range(1, 31)]
    root = parse(per_day_svg(days, "Per day"))
    for size, wide in ((VALUE_FONT, "number"), (DATE_FONT, "date")):
        xs = sorted(
            float(t.get("x"))
            for g in root.iter(SVG + "g")
            if g.get("font-size") == str(size)
            for t in g.iter(SVG + "text")
        )
        assert xs, wide
        width = (5 if wide == "number" else 10) * size * 0.62
        assert all(b - a >= width for a, b in itertools.pairwise(xs)), (wide, xs)


def test_text_is_escaped():
    title = 'Signatures <script>alert(1)</script> & "quotes"'
    svg = per_day_svg([("2026-11-24", 5)], title)
    assert "<script>" not in svg
    root = parse(svg)
    assert root.find(SVG + "title").text == title
    empty = per_day_svg([], title)
    assert "<script>" not in empty
    assert parse(empty).find(SVG + "title").text == title


@pytest.mark.parametrize("per_day", [[], [("2026-11-24", 0)]])
def test_no_signatures_says_so(per_day):
    root = parse(per_day_svg(per_day, "Per day"))
    assert EMPTY in texts(root)
    assert bars(root) == []


def test_readable_without_colour():
    root = parse(per_day_svg([("2026-11-24", 5), ("2026-11-25", 7)], "Per day"))
    fills = {el.get("fill") for el in root.iter() if el.get("fill")}
    assert fills <= {"#1a1a1a", "#ffffff"}
    assert {"5", "7"} <= set(texts(root))


async def test_chart_from_a_real_store(database):
    campaign = load_file(resource("campaigns") / "belarus.toml")
    store = open_store(database.url)
    await store.open()
    try:
        await store.save_campaign(campaign)
        for i in range(3):
            await store.add_signature(sealed_signature(signer(i), campaign))
        stats = await store.stats(campaign.slug, since="")
    finally:
        await store.close()
    root = parse(per_day_svg(stats.per_day, "Signatures per day"))
    assert [tip.split(": ")[1] for tip, _ in bars(root)] == ["3"]
    assert "3" in texts(root)


def test_a_short_campaign_gets_bars_not_a_wall():
    root = parse(per_day_svg([("2026-11-24", 40), ("2026-11-25", 12)], "Two days"))
    widths = [float(r.get("width")) for r in root.iter(SVG + "rect") if r.get("height")]
    bars = [w for w in widths if w < 800]
    assert len(bars) == 2 and all(w == WIDEST_BAR for w in bars)


def test_hours_are_filled_and_labelled_by_the_hour():
    svg = per_hour_svg([("2026-11-24T09", 3), ("2026-11-24T12", 7)], "Per hour")
    root = parse(svg)
    bars = [r for r in root.iter(SVG + "rect") if r.find(SVG + "title") is not None]
    assert [b.find(SVG + "title").text for b in bars] == [
        "09:00: 3",
        "10:00: 0",
        "11:00: 0",
        "12:00: 7",
    ]
    desc = root.find(SVG + "desc").text
    assert desc == (
        "10 signatures over 4 hours (UTC), from 2026-11-24 09:00 to 2026-11-24 12:00; "
        "the most in one hour: 7, at 2026-11-24 12:00."
    )
    assert EMPTY in per_hour_svg([], "Nothing")
