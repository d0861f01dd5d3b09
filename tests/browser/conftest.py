"""Real-browser fixtures: the service as a subprocess, a partner page on a second origin, and
Debian's chromium driven by Playwright.

Origins in play (ports differ, and so do the host names, so the widget is cross-SITE, not only
cross-origin, as it is on a real partner's page):

* the service:      http://127.0.0.1:SERVICE_PORT  (a fresh one with a fresh database for each
                    test that signs, so the counter starts at 785; one per module for the rest)
* the partner page: http://localhost:PARTNER_PORT
* a third origin:   http://127.0.0.1:PARTNER_PORT  (the same partner server under another name)

Playwright's sync API is used in plain tests. Every request of a browser context, from any page
or frame, is recorded (the `network` fixture). The Playwright and browser fixtures are
module-scoped on purpose: while a sync Playwright is alive, its event loop counts as running,
and asyncio tests elsewhere in the run would fail if it outlived this directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Frame,
    Locator,
    Page,
    Playwright,
    Request,
    Response,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.databases import live_from_start
from tests.servers import free_port
from widget.resources import resource

# Debian's chromium; CHROMIUM_PATH points elsewhere (and lets you check the skip).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
# Playwright's own browser download cannot work here: drive the system chromium.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CAMPAIGN = "belarus"
VIEWPORT_HEIGHT = 800
TIMEOUT_MS = 10_000
STARTUP_SECONDS = 30

expect.set_options(timeout=TIMEOUT_MS)


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; on CI (CI=true) a missing browser is a failure."""
    if os.environ.get("CI", "").strip().lower() in {"true", "1"}:
        pytest.fail(f"{reason} (CI=true: the browser tests must run on CI)", pytrace=False)
    pytest.skip(reason)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- the service ------------------------------------------------------------------------------


@dataclass
class Service:
    url: str
    database: Path
    process: subprocess.Popen[bytes]
    log: Path

    def partners(self) -> list[str | None]:
        """The partner code of each stored signature, oldest first, read from the database
        file. (Only that column: how the signer's own details are stored is not this suite's
        business.)"""
        uri = f"file:{self.database}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("SELECT partner FROM signatures ORDER BY id").fetchall()
        return [partner for (partner,) in rows]


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200 and response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service did not answer /healthz:\n{log.read_text()}")


# The partner registered for the partner site's origin, so that the campaign trusts that
# origin (an explicit partner origin) and tells it about signatures. Its code is none of the
# snippets' codes, so the form shows no "Also share my name…" box.
TRUSTED_PARTNER = "partner-site"


@contextlib.contextmanager
def running_service(directory: Path, trusted_origin: str, live: bool = True) -> Iterator[Service]:
    """The real service, as a subprocess on a free port with a fresh database in `directory`:
    the counter starts at 785 and counts live unless `live=False` (the shipped campaign's is
    hourly: the tests watch a signature reach the count), and `trusted_origin` is a
    registered partner's origin."""
    port = free_port()
    database = directory / "widget.db"
    log = directory / "service.log"
    if live:
        live_from_start(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITION_WIDGET_")}
    env["PETITION_WIDGET_MIN_FILL_SECONDS"] = "0"
    subprocess.run(
        [sys.executable, "-m", "widget", "partner", "add", TRUSTED_PARTNER, "--name",
         "Partner site", "--origin", trusted_origin, "--database", str(database)],
        cwd=directory, env=env, check=True, capture_output=True,
    )  # fmt: skip
    command = [sys.executable, "-m", "widget", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database", str(database)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Service(url=url, database=database, process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "shared_service: the test never signs, so it may use a service shared with the other "
        "such tests of its module instead of starting its own",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A browser test that fails says, in the report CI prints, what each frame of its page
    showed and what the service logged: a failure that does not come again can still be read."""
    report = yield
    if report.when == "call" and report.failed:
        found = getattr(item, "funcargs", {})
        if isinstance(found.get("page"), Page):
            report.sections.append(("what the browser showed", browser_showed(found["page"])))
        if isinstance(found.get("service"), Service):
            lines = found["service"].log.read_text(errors="replace").splitlines()
            report.sections.append(("the service's log, last lines", "\n".join(lines[-20:])))
    return report


def browser_showed(page: Page) -> str:
    shown = []
    for frame in page.frames:
        try:
            text = frame.locator("body").inner_text(timeout=1000)
        except PlaywrightError as exc:
            text = f"(unreadable: {exc.message.splitlines()[0]})"
        shown.append(f"{frame.url}\n{text[:800]}")
    return "\n\n".join(shown)


def partner_origin(server: PartnerServer) -> str:
    return PartnerSite(port=server.server_address[1]).origin


@pytest.fixture(scope="module")
def shared_service(
    tmp_path_factory: pytest.TempPathFactory, partner_server: PartnerServer
) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("shared-service")
    with running_service(directory, partner_origin(partner_server)) as service:
        yield service


@pytest.fixture
def service(
    request: pytest.FixtureRequest, tmp_path: Path, partner_server: PartnerServer
) -> Iterator[Service]:
    """The service for this test: its own, with a fresh database (the counter reads 785), or
    for tests marked shared_service, the module's shared one. Either trusts the partner
    site's origin (a registered partner's), not the third origin."""
    if request.node.get_closest_marker("shared_service"):
        yield request.getfixturevalue("shared_service")
        return
    with running_service(tmp_path, partner_origin(partner_server)) as service:
        yield service


# --- the partner site -------------------------------------------------------------------------

STYLE = "_style"  # how a variant is pasted: the script tag (default), or the link snippet

# The snippet variants a partner page can carry; a test picks one with
# @pytest.mark.parametrize("snippet", [...]) (the `snippet` fixture's default is "one").
SNIPPETS: dict[str, list[dict[str, str]]] = {
    "one": [{"data-partner": "demo", "data-lang": "en"}],
    "two": [
        {"data-partner": "alpha", "data-lang": "en"},
        {"data-partner": "beta", "data-lang": "en"},
    ],
    "counter": [{"data-mode": "counter", "data-lang": "en"}],
    "fr": [{"data-partner": "demo", "data-lang": "fr"}],
    # The snippet of today: a link, then the loader.
    "link": [{"data-partner": "demo", "data-lang": "en", STYLE: "link"}],
    # The same, where the CMS stripped the script: only the link is left.
    "stripped": [{"data-partner": "demo", "data-lang": "en", STYLE: "stripped"}],
    # Click-to-load, with the loader copied to the partner's own site (/embed.js there).
    "click": [{"data-partner": "demo", "data-lang": "en", "data-load": "click", STYLE: "click"}],
}

# What a partner might do on its own page: listen for the widget's event. The page also keeps
# every message it receives, so that tests can look at what the widget posted.
RECORDER = """<script>
window.pwEvents = [];
window.pwMessages = [];
document.addEventListener("petition:signed", function (event) {
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".petition-widget"));
  window.pwEvents.push({
    widget: boxes.indexOf(event.target),
    detail: event.detail,
    json: JSON.stringify(event.detail),
    keys: Object.getOwnPropertyNames(event.detail || {}),
    bubbles: event.bubbles,
    isCustomEvent: event instanceof CustomEvent
  });
});
window.addEventListener("message", function (event) {
  window.pwMessages.push({ origin: event.origin, data: event.data });
});
</script>"""

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner page</title>{recorder}</head>
<body style="font-family: sans-serif; margin: 0; padding: 8px; background: #eef">
<main style="max-width: 48rem; margin: 0 auto">
<h1>A partner's article</h1>
<p>Some of the partner's own text, above the petition.</p>
{widgets}
<p>More of the partner's text, below the petition.</p>
</main>
</body>
</html>
"""

# Served on the third origin: a page that pretends to be the widget's iframe.
FOREIGN = """<!doctype html>
<html><head><meta charset="utf-8"><title>Not the widget</title></head><body>
<p>A third origin</p>
<script>
parent.postMessage({ type: "petition-widget:height", height: 5 }, "*");
parent.postMessage({ type: "petition-widget:signed", campaign: "belarus", count: 999999 }, "*");
parent.postMessage({ type: "probe-done", from: "third-origin" }, "*");
</script>
</body></html>
"""


# A host may sandbox the iframe: without scripts, or with scripts but without our own origin.
SANDBOXES = {
    "sandbox-no-scripts": "allow-forms allow-popups",
    "sandbox-opaque-origin": "allow-forms allow-scripts allow-popups",
}


class PartnerServer(ThreadingHTTPServer):
    daemon_threads = True
    service_url = ""


class PartnerHandler(BaseHTTPRequestHandler):
    server: PartnerServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        name = path.strip("/").removesuffix(".html")
        if name in SNIPPETS:
            self._send(HTTPStatus.OK, render_partner_page(self.server.service_url, name))
        elif name == "foreign":
            self._send(HTTPStatus.OK, FOREIGN)
        elif name == "oembed":  # the card as WordPress shows an oEmbed: sandboxed, with a secret
            card = f"{self.server.service_url}/c/{CAMPAIGN}/card?lang=en#?secret=abc123"
            frame = (
                f'<iframe sandbox="allow-scripts" security="restricted" src="{card}" '
                'width="600" height="280" title="Petition card" frameborder="0"></iframe>'
            )
            self._send(HTTPStatus.OK, PAGE.format(recorder=RECORDER, widgets=frame))
        elif name in SANDBOXES:  # a hostile page that frames the widget in a sandbox
            embed = f"{self.server.service_url}/c/{CAMPAIGN}/embed?partner=demo&lang=en"
            frame = (
                f'<iframe sandbox="{SANDBOXES[name]}" src="{embed}" width="400" height="700" '
                'title="Petition" onload="window.pwLoads = (window.pwLoads || 0) + 1"></iframe>'
            )
            self._send(HTTPStatus.OK, PAGE.format(recorder=RECORDER, widgets=frame))
        elif name == "tall":  # the widget far down a long page, its iframe sized by the page
            embed = f"{self.server.service_url}/c/{CAMPAIGN}/embed?partner=demo&lang=en"
            frame = (
                '<div style="height: 700px">Above</div>'
                f'<iframe src="{embed}" width="400" height="1300" title="Petition"></iframe>'
                '<div style="height: 1500px">Below</div><script>window.pwScrolls = [];'
                'addEventListener("scroll", () => window.pwScrolls.push(scrollY));</script>'
            )
            self._send(HTTPStatus.OK, PAGE.format(recorder=RECORDER, widgets=frame))
        elif name == "oembed-trusted":  # oEmbed's HTML shown as it is (Ghost, Drupal…)
            hosted = f"{self.server.service_url}/c/{CAMPAIGN}?partner=demo&lang=en"
            query = urlencode({"url": hosted})
            with urllib.request.urlopen(f"{self.server.service_url}/oembed?{query}") as answer:
                embed = json.load(answer)["html"]
            self._send(HTTPStatus.OK, PAGE.format(recorder=RECORDER, widgets=embed))
        elif name == "embed.js":  # the loader, copied to the partner's own site
            self._send(HTTPStatus.OK, resource("embed.js").read_text(), "text/javascript")
        elif name == "favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, "")  # or chromium logs a 404 in the console
        else:
            self._send(HTTPStatus.NOT_FOUND, "not found")

    def _send(self, status: HTTPStatus, text: str, kind: str = "text/html") -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def render_partner_page(service_url: str, variant: str) -> str:
    tags = []
    for attributes in SNIPPETS[variant]:
        style = attributes.get(STYLE, "script")
        extra = " ".join(f'{name}="{value}"' for name, value in attributes.items() if name != STYLE)
        if style == "script":
            tags.append(
                f'<section><script async src="{service_url}/embed.js" '
                f'data-campaign="{CAMPAIGN}" {extra}></script></section>'
            )
            continue
        link = (f'<a href="{service_url}/c/{CAMPAIGN}?partner=demo&amp;lang=en" '
                f'data-campaign="{CAMPAIGN}" {extra}>Sign the petition</a>')  # fmt: skip
        loader = {"link": f"{service_url}/embed.js", "click": "/embed.js", "stripped": ""}[style]
        script = f'<script async src="{loader}"></script>' if loader else ""
        tags.append(f"<section>{link}\n{script}</section>")
    return PAGE.format(recorder=RECORDER, widgets="\n<p>Between the widgets.</p>\n".join(tags))


@pytest.fixture(scope="module")
def partner_server() -> Iterator[PartnerServer]:
    server = PartnerServer(("127.0.0.1", 0), PartnerHandler)
    thread = threading.Thread(target=server.serve_forever, name="partner-site", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class PartnerSite:
    port: int

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def third_origin(self) -> str:
        """The same server under another host name: an origin that is neither the partner's
        nor the service's."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, variant: str) -> str:
        return f"{self.origin}/{variant}.html"


@pytest.fixture
def partner(partner_server: PartnerServer, service: Service) -> PartnerSite:
    """The partner site, carrying snippets that point at this test's service."""
    partner_server.service_url = service.url
    return PartnerSite(port=partner_server.server_address[1])


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def chromium_installed() -> None:
    """Checked first, before any service is started for nothing."""
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")


@pytest.fixture(scope="module")
def playwright(chromium_installed: None) -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    except PlaywrightError as exc:
        unavailable(f"{CHROMIUM} could not be started: {exc.message.splitlines()[0]}")
    yield browser
    browser.close()


@dataclass
class NetworkLog:
    """Every request and response of a browser context (all pages, all frames), and every
    console message and uncaught error of its pages."""

    requests: list[Request] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    console: list[ConsoleMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        # Playwright wants Python functions as handlers, not bound built-ins like list.append.
        context.on("request", lambda request: self.requests.append(request))
        context.on("response", lambda response: self.responses.append(response))
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def watch(self, page: Page) -> None:
        page.on("console", lambda message: self.console.append(message))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def origins(self) -> set[str]:
        """Origins of network requests; data:, blob: and about: URLs fetch nothing."""
        return {
            origin_of(r.url)
            for r in self.requests
            if urlsplit(r.url).scheme not in {"data", "blob", "about"}
        }

    def console_errors(self) -> list[str]:
        return [f"{m.text} ({m.location})" for m in self.console if m.type == "error"]


@pytest.fixture
def viewport_width() -> int:
    """Override with @pytest.mark.parametrize("viewport_width", [...])."""
    return 1280


@pytest.fixture
def snippet() -> str:
    """Which partner page to load (a key of SNIPPETS); override with parametrize."""
    return "one"


@pytest.fixture
def context_options() -> dict[str, Any]:
    """Extra options for browser.new_context(); override with parametrize."""
    return {}


@pytest.fixture
def profile_preferences() -> dict[str, Any] | None:
    """Chromium profile preferences; when a test sets them (parametrize), its context is a
    persistent one, launched on a fresh profile directory holding them."""
    return None


@pytest.fixture
def context_and_network(
    playwright: Playwright,
    browser: Browser,
    tmp_path: Path,
    viewport_width: int,
    context_options: dict[str, Any],
    profile_preferences: dict[str, Any] | None,
) -> Iterator[tuple[BrowserContext, NetworkLog]]:
    viewport = {"width": viewport_width, "height": VIEWPORT_HEIGHT}
    if profile_preferences is None:
        context = browser.new_context(viewport=viewport, **context_options)
    else:
        profile = tmp_path / "chromium-profile"
        (profile / "Default").mkdir(parents=True)
        (profile / "Default" / "Preferences").write_text(json.dumps(profile_preferences))
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=LAUNCH_ARGS,
            viewport=viewport,
            **context_options,
        )
    context.set_default_timeout(TIMEOUT_MS)
    network = NetworkLog()
    network.attach(context)
    try:
        yield context, network
    finally:
        context.close()


@pytest.fixture
def context(context_and_network: tuple[BrowserContext, NetworkLog]) -> BrowserContext:
    return context_and_network[0]


@pytest.fixture
def network(context_and_network: tuple[BrowserContext, NetworkLog]) -> NetworkLog:
    return context_and_network[1]


@pytest.fixture
def page(context: BrowserContext) -> Page:
    # A persistent context opens with a blank page of its own: use it.
    return context.pages[0] if context.pages else context.new_page()


# --- the widget on a partner page -------------------------------------------------------------

# The frame is as wide as its iframe (a resize has reached it), as tall as its content, and
# has nothing to scroll.
FITTED = """width => {
  const html = document.documentElement;
  const content = html.getBoundingClientRect().height;
  return Math.abs(window.innerWidth - width) <= 1
    && Math.abs(window.innerHeight - content) <= 1
    && html.scrollHeight <= html.clientHeight;
}"""

MEASURE = """() => {
  const html = document.documentElement;
  return {
    contentHeight: html.getBoundingClientRect().height,
    scrollHeight: html.scrollHeight,
    clientHeight: html.clientHeight,
    scrollWidth: html.scrollWidth,
    clientWidth: html.clientWidth,
    innerHeight: window.innerHeight,
    innerWidth: window.innerWidth
  };
}"""


class Widgets:
    """The widgets embed.js mounted on a partner page, and what the page saw of them."""

    def __init__(self, page: Page, service: Service, partner: PartnerSite) -> None:
        self.page = page
        self.service = service
        self.partner = partner

    def open(self, variant: str, origin: str | None = None) -> Widgets:
        """The partner page with this snippet variant; on another origin if given (the same
        page served under a host name the campaign does not trust)."""
        self.page.goto(f"{origin}/{variant}.html" if origin else self.partner.url(variant))
        expected = len(SNIPPETS[variant])
        expect(self.page.locator("div.petition-widget > iframe")).to_have_count(expected)
        return self

    def box(self, index: int = 0) -> Locator:
        return self.page.locator("div.petition-widget").nth(index)

    def iframe(self, index: int = 0) -> Locator:
        return self.box(index).locator("iframe")

    def link(self, index: int = 0) -> Locator:
        return self.box(index).locator("a")

    def frame(self, index: int = 0) -> Frame:
        handle = self.iframe(index).element_handle()
        frame = handle.content_frame()
        assert frame is not None, f"widget {index} has no frame"
        return frame

    def ready(self, index: int = 0) -> Frame:
        """The widget's frame, once its document has loaded and reported its height."""
        expect(self.link(index)).to_be_hidden()
        frame = self.frame(index)
        frame.wait_for_load_state()
        assert frame.url.startswith(self.service.url), frame.url
        return frame

    def iframe_height(self, index: int = 0) -> float:
        return self.iframe(index).evaluate("e => e.getBoundingClientRect().height")

    def measure(self, index: int = 0) -> dict[str, float]:
        result = self.frame(index).evaluate(MEASURE)
        result["iframeHeight"] = self.iframe_height(index)
        return result

    def wait_fitted(self, index: int = 0) -> dict[str, float]:
        """Wait until the iframe is as tall as its document (no inner scrollbar, no gap);
        fail with the measurements if it never gets there."""
        frame = self.ready(index)
        # Chromium throttles rendering in cross-origin iframes that are off screen: their
        # window keeps its old size until they are scrolled into view. Look at it on screen.
        self.iframe(index).scroll_into_view_if_needed()
        width = self.iframe(index).evaluate("e => e.getBoundingClientRect().width")
        try:
            frame.wait_for_function(FITTED, arg=width, timeout=TIMEOUT_MS)
        except PlaywrightError:
            pytest.fail(f"widget {index} never fitted its content: {self.measure(index)}")
        return self.measure(index)

    def count_text(self, index: int = 0) -> Locator:
        return self.frame(index).locator("[data-pw-count-text]")

    def events(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => window.pwEvents")

    def messages(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => window.pwMessages")


@pytest.fixture
def widgets(page: Page, service: Service, partner: PartnerSite) -> Widgets:
    return Widgets(page, service, partner)


@pytest.fixture
def widget_page(widgets: Widgets, snippet: str) -> Widgets:
    """The partner page for `snippet`, loaded, with its iframes in place."""
    return widgets.open(snippet)


@dataclass(frozen=True)
class Signer:
    first_name: str = "Ada"
    last_name: str = "Lovelace"
    email: str = "ada.lovelace@example.org"
    country: str = "CA"
    opt_in: bool = True

    def personal_data(self) -> list[str]:
        return [self.first_name, self.last_name, self.email]


def fill_and_submit(frame: Frame | Page, signer: Signer | None) -> None:
    """Fill the petition form in a frame or page (None: leave it empty) and submit it."""
    if signer is not None:
        frame.locator("#pw-first_name").fill(signer.first_name)
        frame.locator("#pw-last_name").fill(signer.last_name)
        frame.locator("#pw-email").fill(signer.email)
        frame.locator("#pw-country").select_option(signer.country)
        if signer.opt_in:
            # By keyboard, not by a click at coordinates: with two widgets on a page, the
            # other one resizing can move the box between aiming and clicking.
            box = frame.locator("#pw-opt_in")
            if not box.is_checked():
                box.press("Space")
            expect(box).to_be_checked()
    frame.locator("form[data-pw-form] button[type=submit]").click()


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def sign() -> Any:
    """fill_and_submit(frame_or_page, signer_or_None), for the test modules."""
    return fill_and_submit


NEXT_PAINT = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def save_screenshot(page: Page, name: str) -> Path:
    """The whole page. Playwright's full_page=True leaves the parts of a cross-origin iframe
    that were off screen blank (chromium only paints what an out-of-process frame shows), so
    make the viewport as tall as the page, let every frame paint, and take that."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size
    assert viewport is not None
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    try:
        for frame in page.frames[1:]:
            frame.evaluate(NEXT_PAINT)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(viewport)
        # Let every frame lay out at the restored size before the test clicks anything.
        for frame in page.frames[1:]:
            frame.evaluate(NEXT_PAINT)
    return path


@pytest.fixture
def screenshot() -> Any:
    """screenshot(page, name): a full-page PNG under test-artifacts/screenshots/."""
    return save_screenshot


# --- axe-core -----------------------------------------------------------------------------------

# Vendored from the npm registry (tests/browser/assets/README.md says which version).
AXE_SOURCE = Path(__file__).parent / "assets" / "axe.min.js"
# What fails a test; "moderate" and "minor" findings are returned for the test to look at.
AXE_FAILING = ("serious", "critical")
# One document at a time: a test checks each frame on its own, so axe must not wait for
# copies of itself inside the frames.
AXE_RUN = """async () => {
  const result = await axe.run(document, { iframes: false, resultTypes: ["violations"] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" "))
  }));
}"""


def axe_violations(target: Page | Frame) -> list[dict[str, Any]]:
    """axe-core's violations in one document (a page's or a frame's)."""
    frame = target.main_frame if isinstance(target, Page) else target
    if not frame.evaluate("() => typeof window.axe === 'object'"):
        # Not add_script_tag: it puts the source in an inline <script>, which the pages' CSP
        # (script-src 'self') refuses. evaluate() runs it through DevTools, outside the CSP.
        frame.evaluate(AXE_SOURCE.read_text())
    return frame.evaluate(AXE_RUN)


def assert_accessible(target: Page | Frame, where: str) -> list[dict[str, Any]]:
    """Fail on any serious or critical axe-core violation, naming its rule and elements;
    return every violation (the lesser ones too)."""
    violations = axe_violations(target)
    failing = [v for v in violations if v["impact"] in AXE_FAILING]
    assert failing == [], f"axe-core in {where}:\n" + "\n".join(
        f"  {v['impact']} {v['id']} ({v['help']}): {', '.join(v['targets'])}" for v in failing
    )
    return violations


@pytest.fixture
def accessible() -> Any:
    """accessible(page_or_frame, where): assert_accessible, for the test modules."""
    return assert_accessible
