"""Jinja2 environments, one per language, compiled once. Autoescape is always on."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jinja2
import jinja2.bccache

from widget import closing, i18n
from widget.campaigns import LANGUAGES
from widget.resources import resource
from widget.urls import URLs


class _CompiledOnce(jinja2.BytecodeCache):
    """Compiled template code kept for the life of the process: every app built in it (the
    tests build hundreds) compiles each template once. It memoises a pure compilation: the
    bucket's checksum of the source makes a changed template compile anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledOnce()


class Templates:
    def __init__(self, urls: URLs) -> None:
        loader = jinja2.FileSystemLoader(resource("templates"))
        self._envs: dict[str, jinja2.Environment] = {}
        menu = [(code, i18n.autonym(code)) for code in LANGUAGES]
        for language in LANGUAGES:
            env = jinja2.Environment(
                loader=loader,
                autoescape=True,
                auto_reload=False,  # templates ship with the package; never re-read per render
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
                bytecode_cache=_COMPILED,
            )
            # Added to the environment by the i18n extension, which mypy cannot see.
            env.install_gettext_translations(  # type: ignore[attr-defined]
                i18n.translations(language), newstyle=True
            )
            env.globals.update(
                urls=urls, lang=language, direction=i18n.direction(language), languages=menu
            )
            env.filters["number"] = lambda n, _lang=language: i18n.format_number(n, _lang)
            env.filters["when"] = when
            self._envs[language] = env

    def render(self, name: str, language: str, **context: Any) -> str:
        return self._envs[language].get_template(name).render(**context)


def when(stamp: str) -> str:
    """A stored UTC time for operators: 2027-01-31 23:59 UTC (in 57 days)."""
    at = closing.moment(stamp)
    days = (at - datetime.now(UTC)).total_seconds() / 86400
    if abs(days) < 1:
        relative = "today"
    else:
        relative = f"in {round(days)} days" if days > 0 else f"{round(-days)} days ago"
    return f"{at:%Y-%m-%d %H:%M} UTC ({relative})"


# WCAG 2.1 AA (1.4.3): text needs 4.5:1 against its background. User interface components need
# 3:1 (1.4.11); the ink below meets 4.5:1, so it can carry text as well.
MINIMUM_CONTRAST = 4.5
WHITE, BLACK = "#ffffff", "#000000"
DARK_PAGE = "#141414"  # the dark theme's page (static/widget.css --pw-bg)


@cache
def theme_style(colour: str) -> tuple[str, str]:
    """The inline <style> for a theme colour, and its CSP hash source ('sha256-…').

    The accent is the button's background, under black or white text, whichever contrasts more
    (never less than 4.58:1). Where the accent stands on the white page (checkboxes, the
    progress bar, borders), the page uses --pw-accent-ink: the accent darkened until it has
    4.5:1 against white."""
    # In the dark theme the button must still stand out from the page: an accent too dark for
    # that takes its lightened ink instead (3:1 at least, for a component).
    dark = colour if _contrast(colour, DARK_PAGE) >= 3 else ink_on_dark(colour)
    css = (
        f":root{{--pw-accent:{colour};--pw-on-accent:{on_accent(colour)};"
        f"--pw-accent-ink:{ink_on_white(colour)};--pw-accent-ink-dark:{ink_on_dark(colour)};"
        f"--pw-accent-dark:{dark};--pw-on-accent-dark:{on_accent(dark)}}}"
    )
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def on_accent(colour: str) -> str:
    """Black or white, whichever contrasts more with `colour`: text on the accent."""
    return WHITE if _contrast(colour, WHITE) >= _contrast(colour, BLACK) else BLACK


def ink_on_white(colour: str) -> str:
    """`colour` if it has 4.5:1 against white, else the lightest darker shade of it (its
    channels scaled down together, so the hue stays) that has."""
    if _contrast(colour, WHITE) >= MINIMUM_CONTRAST:
        return colour
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    brightest = max(channels)  # over 0: black would have passed
    for level in range(brightest - 1, 0, -1):
        shade = "#" + "".join(f"{round(c * level / brightest):02x}" for c in channels)
        if _contrast(shade, WHITE) >= MINIMUM_CONTRAST:
            return shade
    return BLACK


def ink_on_dark(colour: str) -> str:
    """`colour` if it has 4.5:1 against the dark page, else the darkest lighter shade of it
    (mixed with white) that has: the accent's ink in the dark theme."""
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    for step in range(0, 101):
        shade = "#" + "".join(f"{round(c + (255 - c) * step / 100):02x}" for c in channels)
        if _contrast(shade, DARK_PAGE) >= MINIMUM_CONTRAST:
            return shade
    return WHITE


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def describe_colour(colour: str) -> str:
    """What a theme colour gives, for the operator who picks it: the button's text and the
    ink on white, each with its contrast ratio (all at least 4.5:1)."""
    text = "white" if on_accent(colour) == WHITE else "black"
    ink = ink_on_white(colour)
    return (
        f"The button is {colour} with {text} text ({_contrast(colour, on_accent(colour)):.1f}:1). "
        f"On white, checkboxes, the bar and borders use {ink} ({_contrast(ink, WHITE):.1f}:1)"
        + ("" if ink == colour else ", a darker shade of it, for contrast")
        + "."
    )


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
