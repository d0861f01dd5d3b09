"""The picture a shared link shows (Open Graph and Twitter cards): a 1200 by 630 PNG drawn on the
server from the campaign's title, organisation and colour, in the reader's language. Nothing
in it changes with signatures, so each one is drawn once per process and cached."""

from __future__ import annotations

import io
from functools import cache, lru_cache

from PIL import Image, ImageDraw, ImageFont

from widget.resources import resource
from widget.templating import ink_on_white, on_accent

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
BAND = 150  # the campaign-coloured band at the foot, with the call to sign
TITLE_SIZES = (72, 64, 56, 48, 42)  # the largest that fits in MAX_LINES
MAX_LINES = 4
INK, MUTED, PAPER = "#1a1a1a", "#555555", "#ffffff"


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(resource("fonts") / "DejaVuSans-Bold.ttf"), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _fitted_title(title: str, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    for size in TITLE_SIZES:
        font = _font(size)
        lines = _wrap(title, font, width)
        if len(lines) <= MAX_LINES and all(font.getlength(line) <= width for line in lines):
            return font, lines
    font = _font(TITLE_SIZES[-1])
    lines = _wrap(title, font, width)[:MAX_LINES]
    while font.getlength(lines[-1] + "…") > width and " " in lines[-1]:
        lines[-1] = lines[-1].rsplit(" ", 1)[0]
    lines[-1] += "…"
    return font, lines


@lru_cache(maxsize=256)
def picture(title: str, organisation: str, colour: str, call: str) -> bytes:
    """The PNG for these texts and this theme colour (#rrggbb)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rectangle((0, 0, WIDTH, 16), fill=ink_on_white(colour))
    small = _font(30)
    draw.text((MARGIN, 64), organisation.upper(), font=small, fill=MUTED)
    font, lines = _fitted_title(title, inner)
    step = round(font.size * 1.18)
    top = 64 + 30 + 36
    for number, line in enumerate(lines):
        draw.text((MARGIN, top + number * step), line, font=font, fill=INK)
    draw.rectangle((0, HEIGHT - BAND, WIDTH, HEIGHT), fill=colour)
    label = _font(44)
    draw.text((MARGIN, HEIGHT - BAND / 2), call, font=label, fill=on_accent(colour), anchor="lm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
