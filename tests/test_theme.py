"""Any theme colour an operator configures keeps WCAG 2.1 AA contrast: the button's text turns
black or white, and where the accent stands on the white page it is darkened to 4.5:1."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from widget.templating import DARK_PAGE, theme_style

WHITE = "#ffffff"


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance, written out again here rather than imported."""

    def linear(byte: int) -> float:
        c = byte / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--pw-([a-z-]+):(#[0-9a-f]{6})", css))


# colour: (text on the button, the accent on white). Checked by hand against the WCAG formula.
TABLE = {
    "#ffff00": ("#000000", "#7a7a00"),  # yellow: 1.07:1 on white, darkened to 4.55:1
    "#777777": ("#000000", "#767676"),  # 4.48:1 on white: one step darker is 4.54:1
    "#ffffff": ("#000000", "#767676"),
    "#000000": ("#ffffff", "#000000"),
    "#1a1a1a": ("#ffffff", "#1a1a1a"),  # the default
    "#757575": ("#ffffff", "#757575"),  # the lightest grey that takes white text (4.61:1)
    "#767676": ("#000000", "#767676"),  # and the darkest that takes black (4.62:1)
    "#ffd700": ("#000000", "#8b7500"),
    "#00ff00": ("#000000", "#008a00"),
    "#ff0000": ("#000000", "#ee0000"),
    "#0000ff": ("#ffffff", "#0000ff"),
    "#005a9c": ("#ffffff", "#005a9c"),
    "#00aaff": ("#000000", "#007dbc"),
}


@pytest.mark.parametrize(("colour", "expected"), TABLE.items())
def test_theme_colour_keeps_its_contrast(colour, expected):
    css, source = theme_style(colour)
    found = variables(css)
    assert (found["on-accent"], found["accent-ink"]) == expected
    assert found["accent"] == colour  # the button keeps the operator's colour

    # The button's text, on the accent.
    assert contrast(found["on-accent"], colour) >= 4.5
    # The accent where it stands on the white page: checkboxes, the progress bar, borders.
    ink = found["accent-ink"]
    assert contrast(ink, WHITE) >= 4.5
    if contrast(colour, WHITE) >= 4.5:
        assert ink == colour  # nothing to adjust
    else:
        # Darkened, not recoloured: every channel scaled down by the same factor...
        channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        shade = [int(ink[i : i + 2], 16) for i in (1, 3, 5)]
        factor = max(shade) / max(channels)
        assert factor < 1
        assert all(abs(s - c * factor) <= 0.5 for s, c in zip(shade, channels, strict=True))
        # ...and no darker than it must be: one level lighter falls under 4.5:1.
        lighter = "#" + "".join(
            f"{round(c * (max(shade) + 1) / max(channels)):02x}" for c in channels
        )
        assert contrast(lighter, WHITE) < 4.5

    # The style is allowed by the hash the page's CSP carries.
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert source == f"'sha256-{digest}'"


def test_every_colour_gets_enough_contrast():
    """Not only the table: a sweep over the colour cube, in steps of 0x11."""
    steps = range(0, 256, 0x11)
    for r in steps:
        for g in steps:
            for b in steps:
                colour = f"#{r:02x}{g:02x}{b:02x}"
                found = variables(theme_style(colour)[0])
                assert contrast(found["on-accent"], colour) >= 4.5, colour
                assert contrast(found["accent-ink"], WHITE) >= 4.5, colour


def test_every_colour_gets_enough_contrast_in_the_dark_theme():
    steps = range(0, 256, 0x11)
    for r in steps:
        for g in steps:
            for b in steps:
                colour = f"#{r:02x}{g:02x}{b:02x}"
                found = variables(theme_style(colour)[0])
                assert contrast(found["accent-ink-dark"], DARK_PAGE) >= 4.5, colour
                # The button stands out from the dark page, and its text from the button.
                assert contrast(found["accent-dark"], DARK_PAGE) >= 3, colour
                assert contrast(found["on-accent-dark"], found["accent-dark"]) >= 4.5, colour
    assert variables(theme_style("#ffd700")[0])["accent-ink-dark"] == "#ffd700"  # already fine


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/c/belarus/embed", "light"), ("/c/belarus/embed?theme=dark", "dark"),
     ("/c/belarus/embed?theme=auto", "auto"), ("/c/belarus/embed?theme=neon", "light"),
     ("/c/belarus/counter?theme=dark", "dark"), ("/c/belarus", "auto"),
     ("/c/belarus?theme=light", "light")],
)  # fmt: skip
async def test_the_theme_comes_from_the_snippet_or_the_readers_system(client, path, expected):
    page = (await client.get(path)).text
    assert f'data-theme="{expected}"' in page


async def test_a_reader_without_javascript_keeps_the_dark_theme_after_signing(client):
    from tests.conftest import fresh_token, signer

    page = (await client.get("/c/belarus/embed?theme=dark")).text
    assert '<input type="hidden" name="theme" value="dark">' in page
    assert 'name="theme"' not in (await client.get("/c/belarus/embed")).text  # light: nothing
    form = {**signer(1), "token": await fresh_token(client), "theme": "dark"}
    answer = await client.post("/c/belarus/sign", data=form)
    assert answer.status_code == 303 and "theme=dark" in answer.headers["location"]
    thanks = await client.get(answer.headers["location"])
    assert 'data-theme="dark"' in thanks.text
    forged = {**signer(2), "token": await fresh_token(client), "theme": "neon"}
    assert "theme=" not in (await client.post("/c/belarus/sign", data=forged)).headers["location"]
