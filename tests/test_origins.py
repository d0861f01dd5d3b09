"""Only an origin (scheme://host[:port]) can be set where an origin is asked for, in the campaign
file, the admin and the CLI; nothing else ever reaches a header. And with a public URL, other
host names get nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import make_settings
from tests.test_admin import NEW_CAMPAIGN, add_operator, log_in, post
from widget import campaigns, origins
from widget.app import create_app
from widget.cli import main
from widget.resources import resource

INJECTIONS = [
    "https://evil.example; report-uri http:collect.evil",
    "https://evil.example report-uri",
    "https://evil.example/path",
    "https://evil.example,https://b.example",
    "https://user@evil.example",
    "https://evil.example:99999",
    "https://evil.example\r\nSet-Cookie: a=b",
    "https://evil.example'",
    "evil.example",
    "data:",
]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Amnesty.ca", "https://amnesty.ca"),
        ("https://amnesty.ca/", "https://amnesty.ca"),
        ("https://amnesty.ca:443", "https://amnesty.ca"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("https://bücher.de", "https://xn--bcher-kva.de"),
        *((bad, None) for bad in INJECTIONS),
    ],
)
def test_normalise(given, expected):
    assert origins.normalise(given) == expected


@pytest.mark.parametrize("bad", INJECTIONS)
def test_campaign_file_refuses_anything_but_an_origin(bad):
    data = campaigns.load_file(resource("campaigns") / "belarus.toml").to_dict()
    with pytest.raises(campaigns.CampaignError, match=r"allowed_origins: .* is not an origin"):
        campaigns.parse({**data, "allowed_origins": [bad]})


def test_any_stands_alone():
    data = campaigns.load_file(resource("campaigns") / "belarus.toml").to_dict()
    with pytest.raises(campaigns.CampaignError, match="stands alone"):
        campaigns.parse({**data, "allowed_origins": ["*", "https://a.example"]})


def test_cli_refuses_injected_origins(capsys, database):
    db = database.url
    main(["campaign", "load", str(resource("campaigns") / "belarus.toml"), "--database", db])
    bad = '["https://evil.example; report-uri http:collect.evil"]'
    with pytest.raises(SystemExit, match=r"allowed_origins: .* is not an origin"):
        main(["campaign", "set", "belarus", "allowed_origins", bad, "--database", db])
    with pytest.raises(SystemExit, match=r"origins: .* is not an origin"):
        main(
            [
                "partner",
                "add",
                "p",
                "--name",
                "P",
                "--origin",
                "https://a.example/x",
                "--database",
                db,
            ]
        )
    main(["campaign", "dump", "belarus", "--database", db])
    assert "evil" not in capsys.readouterr().out


async def test_admin_refuses_injected_origins(client):
    await add_operator(client)
    await log_in(client)
    bad = "https://evil.example; report-uri http:collect.evil"
    saved = await post(client, "/admin/campaigns/new", {**NEW_CAMPAIGN, "allowed_origins": bad})
    assert saved.status_code == 422
    assert "allowed_origins" in saved.text and "is not an origin" in saved.text
    assert (await client.get("/c/clean-water")).status_code == 404
    partner = await post(
        client, "/admin/partners",
        {"code": "rivers", "name": "Rivers", "origins": "https://rivers.example/page"},
    )  # fmt: skip
    assert partner.status_code == 422
    assert "is not an origin" in partner.text


async def test_a_bad_origin_stored_by_an_older_version_never_reaches_a_header(client):
    store = client.app.state.service.store
    async with store.backend.transaction() as tx:
        config = json.loads(
            await tx.fetchval("SELECT config FROM campaigns WHERE slug = ?", "belarus")
        )
        config["allowed_origins"] = ["https://ok.example", "https://evil.example; report-uri x"]
        await tx.execute(
            "UPDATE campaigns SET config = ? WHERE slug = ?", json.dumps(config), "belarus"
        )
        await tx.execute("UPDATE store_revision SET n = n + 1")
    await client.app.state.service.campaigns.reload(force=True)
    page = await client.get("/c/belarus/embed")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert csp.endswith("frame-ancestors 'self' https://ok.example")
    assert "report-uri" not in page.text


async def test_other_host_names_get_400_once_the_public_url_is_set(database):
    app = create_app(make_settings(database, public_url="https://petitions.example.org:443/"))
    assert app.state.service.settings.public_url == "https://petitions.example.org"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://petitions.example.org"
        ) as ours:
            assert (await ours.get("/c/belarus/embed")).status_code == 200
            assert (await ours.get("/api/campaigns/belarus")).status_code == 200
            # A proxy may pass the name on without the port (nginx's $host), or with it.
            for host in ("petitions.example.org:8443", "PETITIONS.example.org"):
                named = await ours.get("/c/belarus/embed", headers={"Host": host})
                assert named.status_code == 200, host
        async with httpx.AsyncClient(
            transport=transport, base_url="http://rebound.example"
        ) as other:
            for path in ("/c/belarus/embed", "/api/campaigns/belarus", "/admin/login"):
                refused = await other.get(path)
                assert refused.status_code == 400, path
                assert "host name" in refused.text
            assert (await other.post("/c/belarus/sign", data={})).status_code == 400
            assert (await other.get("/healthz")).status_code == 200
            assert (await other.get("/readyz")).status_code == 200


@pytest.mark.parametrize("bad", ["petitions.example.org", "https://petitions.example.org/x y"])
def test_public_url_must_be_an_origin(database, bad):
    with pytest.raises(Exception, match="PUBLIC_URL: expected https://HOST"):
        create_app(make_settings(database, public_url=bad))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serve_on_a_public_address_needs_the_public_url(monkeypatch, tmp_path, host):
    monkeypatch.delenv("PETITION_WIDGET_PUBLIC_URL", raising=False)
    db = str(tmp_path / "p.db")
    with pytest.raises(
        SystemExit, match=r"refusing to serve on .* without PETITION_WIDGET_PUBLIC_URL"
    ):
        main(["serve", "--host", host, "--database", db])
