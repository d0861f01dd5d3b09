"""The public URLs are a contract with partners who pasted them into pages we never see
again. These tests pin them; changing one is a breaking change."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from starlette.routing import Mount, Route

from widget.app import routes
from widget.urls import URLs

PINNED = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/embed.js"),
    ("GET", "/c/{slug}"),
    ("GET", "/c/{slug}/embed"),
    ("GET", "/c/{slug}/counter"),
    ("POST", "/c/{slug}/sign"),
    ("GET", "/c/{slug}/thanks"),
    # Signers note the withdrawal page's address with their code, to use it months later.
    ("GET", "/c/{slug}/withdraw"),
    ("POST", "/c/{slug}/withdraw"),
    ("GET", "/api/campaigns/{slug}"),
    # Social networks keep a shared link's picture address for as long as the post lives.
    ("GET", "/c/{slug}/preview.png"),
}


def test_route_table_keeps_every_pinned_url():
    table = set()
    for route in routes():
        if isinstance(route, Route):
            for method in route.methods or ():
                table.add((method, route.path))
        elif isinstance(route, Mount):
            table.add(("GET", route.path + "/{path}"))
    assert table >= PINNED
    assert ("GET", "/static/{path}") in table


def test_url_builder():
    urls = URLs("https://petitions.example.org/")
    assert urls.embed_js() == "https://petitions.example.org/embed.js"
    assert urls.hosted("belarus") == "https://petitions.example.org/c/belarus"
    assert urls.embed("belarus", partner="ai-ca", lang="fr") == (
        "https://petitions.example.org/c/belarus/embed?partner=ai-ca&lang=fr"
    )
    assert urls.counter("belarus") == "https://petitions.example.org/c/belarus/counter"
    assert urls.sign("belarus") == "https://petitions.example.org/c/belarus/sign"
    assert urls.api_campaign("belarus") == "https://petitions.example.org/api/campaigns/belarus"
    assert URLs().hosted("belarus", lang="be") == "/c/belarus?lang=be"
    assert URLs().home(lang="fr") == "/?lang=fr"


def test_embed_js_builds_the_pinned_iframe_urls():
    from widget.resources import resource

    source = resource("embed.js").read_text()
    assert '"/c/" + encodeURIComponent(campaign)' in source
    assert 'mode === "counter" ? "counter" : "embed"' in source
    assert 'params.set("partner"' in source and 'params.set("lang"' in source


def test_wheel_carries_templates_loader_campaign_static_and_catalogs(tmp_path):
    root = __import__("pathlib").Path(__file__).parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(root)],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("petition_widget-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in [
        "widget/embed.js",
        "widget/templates/base.html",
        "widget/templates/embed.html",
        "widget/campaigns/belarus.toml",
        "widget/static/widget.css",
        "widget/static/frame.js",
        "widget/app.py",
        "widget/locales/fr/LC_MESSAGES/messages.mo",
        "widget/locales/be/LC_MESSAGES/messages.mo",
        "widget/locales/ru/LC_MESSAGES/messages.mo",
    ]:
        assert expected in names, expected
