"""A campaign as an operator may configure it: a video on another host, and a theme colour that
is hard to read on white or under white text.

The campaigns are loaded with `petition-widget campaign load` before the service starts. The
"video host" is a local HTTPS server (campaigns take only https:// video addresses) on its own
origin, https://video.localhost:PORT (Chromium sends *.localhost to the loopback address), with
a certificate made for the run; the browser contexts of this module accept it.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    NEXT_PAINT,
    REPO,
    PartnerServer,
    Service,
    partner_origin,
    running_service,
    unavailable,
)

pytestmark = pytest.mark.shared_service  # nobody signs here

VIDEO_HOSTNAME = "video.localhost"
PLAYER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake player</title>
</head><body><p id="player">The fake player is playing.</p></body></html>"""

# Slug: theme colour. `belarus` takes white text (4.61:1), the lightest grey that does: a
# button that lightened on hover would fall under 4.5:1. `yellow` is 1.07:1 on white.
THEMES = {"belarus": "#757575", "yellow": "#ffff00"}


class VideoHost(ThreadingHTTPServer):
    """Answers every GET with a tiny player page, and keeps what reached it: every
    connection, and each request's path and Referer."""

    daemon_threads = True

    def __init__(self, certificate: Path, key: str | Path) -> None:
        super().__init__(("127.0.0.1", 0), VideoHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        # The handshake happens in the handler's thread, not in the accepting one.
        self.socket = context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )
        self.connections = 0
        self.requests: list[tuple[str, str | None]] = []

    def get_request(self) -> tuple[socket.socket, Any]:
        self.connections += 1
        return super().get_request()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Chromium aborts its first handshake with the self-made certificate ("certificate
        # unknown") before it applies the context's ignore_https_errors and connects again.
        if not isinstance(sys.exception(), ssl.SSLError):
            super().handle_error(request, client_address)

    @property
    def origin(self) -> str:
        return f"https://{VIDEO_HOSTNAME}:{self.server_address[1]}"


class VideoHandler(BaseHTTPRequestHandler):
    server: VideoHost

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Referer")))
        body = PLAYER.encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def video_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VideoHost]:
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl is missing: it makes the fake video host's certificate")
    directory = tmp_path_factory.mktemp("video-host")
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={VIDEO_HOSTNAME}",
         "-addext", f"subjectAltName=DNS:{VIDEO_HOSTNAME}",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = VideoHost(certificate, key)
    thread = threading.Thread(target=server.serve_forever, name="video-host", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def campaign_file(directory: Path, slug: str, colour: str, **extra: str) -> Path:
    """The shipped Belarus campaign under another slug and theme colour, with `extra` top-level
    fields and a goal (for the progress bar)."""
    text = (REPO / "campaigns" / "belarus.toml").read_text()
    text, slugs = re.subn(r'(?m)^slug = ".*"$', f'slug = "{slug}"', text)
    text, colours = re.subn(r'(?m)^theme_colour = ".*"$', f'theme_colour = "{colour}"', text)
    assert slugs == colours == 1, "campaigns/belarus.toml changed shape"
    fields = {"goal": "1000", **{name: f'"{value}"' for name, value in extra.items()}}
    top = "".join(f"{name} = {value}\n" for name, value in fields.items())
    text = text.replace("\n[translations.", f"\n{top}\n[translations.", 1)
    path = directory / f"{slug}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def shared_service(
    tmp_path_factory: pytest.TempPathFactory, video_host: VideoHost, partner_server: PartnerServer
) -> Iterator[Service]:
    """This module's service: the themed campaigns loaded before it starts."""
    directory = tmp_path_factory.mktemp("themed-service")
    extra = {"belarus": {"video_url": f"{video_host.origin}/embed/fake?autoplay=1"}}
    for slug, colour in THEMES.items():
        command = [sys.executable, "-m", "widget", "campaign", "load", "--database"]
        command += [str(directory / "widget.db")]
        command += [str(campaign_file(directory, slug, colour, **extra.get(slug, {})))]
        subprocess.run(command, cwd=directory, check=True, capture_output=True)
    with running_service(directory, partner_origin(partner_server)) as service:
        yield service


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {"ignore_https_errors": True}  # the fake video host's certificate is its own


def test_the_video_loads_only_when_the_reader_asks(page, service, video_host, network, accessible):
    # A viewport as tall as the page: all of it is in view from the start, so a player that
    # loads lazily, as it scrolls into view, would load before the network goes idle.
    page.set_viewport_size({"width": 1280, "height": 4000})
    with page.expect_response(f"{service.url}/c/belarus?lang=en") as answer:
        page.goto(f"{service.url}/c/belarus?lang=en", wait_until="networkidle")
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 4000

    # The placeholder: its title, a button, and where the video would come from.
    video = page.locator("figure.pw-video")
    expect(video.locator("figcaption")).to_have_text(
        "VIDEO: Hundreds of Women Detained by Police During Peaceful Protest"
    )
    play = video.get_by_role("button", name="Play the video")
    expect(play).to_be_visible()
    expect(video).to_contain_text(f"The video loads from {VIDEO_HOSTNAME} only if you click play.")
    play.hover()  # the reader points at it
    page.evaluate(NEXT_PAINT)
    # Nothing has left for the video host: no request, not even a connection.
    assert [r.url for r in network.requests if r.url.startswith(video_host.origin)] == []
    assert video_host.connections == 0
    assert video_host.requests == []
    accessible(page, "the hosted page with its video placeholder")

    # The page may frame exactly the video's origin.
    csp = answer.value.header_value("content-security-policy") or ""
    frame_src = [d.split()[1:] for d in csp.split(";") if d.split()[:1] == ["frame-src"]]
    assert frame_src == [[video_host.origin]], csp

    with page.expect_request(f"{video_host.origin}/embed/fake?autoplay=1"):
        play.click()
    player = video.locator("iframe")
    expect(player).to_have_attribute("title", video.locator("figcaption").inner_text())
    expect(player).to_be_focused()
    frame = player.element_handle().content_frame()
    assert frame is not None
    expect(frame.locator("#player")).to_have_text("The fake player is playing.")
    assert video_host.requests == [("/embed/fake?autoplay=1", f"{service.url}/")]
    assert urlsplit(frame.url).netloc == f"{VIDEO_HOSTNAME}:{video_host.server_address[1]}"
    accessible(page, "the hosted page with the video player")
    # Nothing was refused on the way: no CSP report, no failed load. (The service has no
    # favicon: Chromium's request for one, of the top-level page, is answered 404.)
    errors = [e for e in network.console_errors() if f"{service.url}/favicon.ico" not in e]
    assert errors == []
    assert [(r.url, r.failure) for r in network.requests if r.failure] == []


def rgb(css: str) -> tuple[int, int, int]:
    """`rgb(1, 2, 3)` as computed by the browser."""
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, 1)?\)", css)
    assert match, f"not an opaque colour: {css}"
    r, g, b = (int(n) for n in match.groups())
    return r, g, b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def luminance(colour: tuple[int, int, int]) -> float:
        r, g, b = ((c / 255) for c in colour)
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


STYLES = """e => {
  const s = getComputedStyle(e);
  return { color: s.color, background: s.backgroundColor, accent: s.accentColor,
           filter: s.filter, opacity: s.opacity, mixBlendMode: s.mixBlendMode };
}"""
WHITE = (255, 255, 255)


@pytest.mark.parametrize("slug", THEMES)
def test_any_theme_colour_keeps_its_contrast(page, service, slug, accessible):
    page.goto(f"{service.url}/c/{slug}/embed?lang=en")
    html = page.locator("html")
    accent = html.evaluate("e => getComputedStyle(e).getPropertyValue('--pw-accent').trim()")
    assert accent == THEMES[slug]
    # axe checks every text against its background, the button's included.
    accessible(page, f"the iframe document of {slug}, theme {accent}")

    # The checkbox and the progress bar stand on white: they are drawn in a colour with
    # 4.5:1 against it, whatever the theme.
    for selector in ("#pw-opt_in", "[data-pw-progress]"):
        drawn = rgb(page.locator(selector).evaluate(STYLES)["accent"])
        assert contrast(drawn, WHITE) >= 4.5, (selector, drawn)

    # The button, pointed at: still exactly the colours chosen for contrast, with nothing
    # (a filter, transparency, a blend) that would change them on screen.
    button = page.locator("form[data-pw-form] button[type=submit]")
    at_rest = button.evaluate(STYLES)
    button.hover()
    hovered = button.evaluate(STYLES)
    for style in (at_rest, hovered):
        assert (style["filter"], style["opacity"], style["mixBlendMode"]) == ("none", "1", "normal")
        assert contrast(rgb(style["color"]), rgb(style["background"])) >= 4.5, style
