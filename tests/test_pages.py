"""The pages partners and readers load: the iframe, the counter, the hosted page, the demo,
the loader and the JSON API; their headers; 404s."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.conftest import count, sign, signer


@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/readyz", "/embed.js", "/c/belarus", "/c/belarus/embed",
     "/c/belarus/counter", "/c/belarus/thanks", "/api/campaigns/belarus", "/static/widget.css",
     "/static/frame.js"],
)  # fmt: skip
async def test_public_pages_answer(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" in response.headers
    assert "set-cookie" not in response.headers


async def test_readyz_answers_whether_the_database_does_and_healthz_does_not_ask(client):
    assert (await client.get("/readyz")).text == "ready"
    store = client.app.state.service.store
    await store.close()
    try:
        down = await client.get("/readyz")
        assert (down.status_code, down.text) == (503, "not ready")
        assert down.headers["cache-control"] == "no-store"
        assert (await client.get("/healthz")).status_code == 200  # alive all the same
    finally:
        await store.open()
    assert (await client.get("/readyz")).status_code == 200


async def test_hosted_page_has_the_whole_campaign(client):
    html = (await client.get("/c/belarus")).text
    for text in [
        "Amnesty International Canada",
        "Protect peaceful protesters in Belarus",
        "Stop police using brutal violence in the streets and in detention",
        "We call on the Minister of Internal Affairs of the Republic of Belarus to:",
        "Immediately end the violent police crackdown",
        "full names will not be handed over to the Belarusian authorities",
        "785 people have taken action",
        "Hundreds of thousands of Belarusian people",
    ]:
        assert text in html, text
    for builder_label in ["Form Section Structure", "Scripts Block", "Campaign Section"]:
        assert builder_label not in html


async def test_form_labels_every_input(client):
    html = (await client.get("/c/belarus/embed")).text
    ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html)
    assert {"pw-first_name", "pw-last_name", "pw-email", "pw-country", "pw-opt_in"} <= set(ids)
    for element_id in ids:
        assert f'<label for="{element_id}">' in html, element_id
    assert html.count("<option") > 240  # ISO 3166 countries
    assert '<option value="BY">Belarus<' in html


async def test_embed_csp_follows_allowed_origins(client):
    default = await client.get("/c/belarus/embed")
    assert "frame-ancestors *" in default.headers["content-security-policy"]
    assert "x-frame-options" not in default.headers

    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    limited = replace(campaign, allowed_origins=("https://amnesty.ca", "https://partner.org"))
    await service.store.save_campaign(limited)
    await service.campaigns.reload(force=True)
    csp = (await client.get("/c/belarus/embed")).headers["content-security-policy"]
    assert "frame-ancestors 'self' https://amnesty.ca https://partner.org" in csp
    counter_csp = (await client.get("/c/belarus/counter")).headers["content-security-policy"]
    assert "https://partner.org" in counter_csp


async def test_csp_has_no_inline_script_and_no_other_origin(client):
    for path in ["/", "/c/belarus", "/c/belarus/embed"]:
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert "<script>" not in response.text  # no inline script
    hosted = await client.get("/c/belarus")
    assert "frame-ancestors 'none'" in hosted.headers["content-security-policy"]


async def test_theme_style_is_allowed_by_its_hash(client):
    import base64
    import hashlib

    response = await client.get("/c/belarus/embed")
    style = re.search(r"<style>(.*?)</style>", response.text).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["content-security-policy"]


async def test_nothing_is_loaded_from_another_origin(client):
    share = ("https://t.me/", "viber://", "https://wa.me/", "https://www.facebook.com/",
             "https://twitter.com/", "mailto:")  # fmt: skip
    for path in ["/", "/c/belarus", "/c/belarus/embed", "/c/belarus/counter", "/c/belarus/thanks"]:
        html = (await client.get(path)).text
        for url in re.findall(r'(?:src|action)="([^"]+)"', html):
            assert url.startswith(("/", "http://testserver/")), (path, url)
        for tag, url in re.findall(r'<(a|link)\b[^>]*\bhref="([^"]+)"', html):
            if url.startswith(("/", "#", "http://testserver/")) or url == "data:,":
                continue  # our own, or the empty inline icon (no request at all)
            # Only the share links leave the site, and only when the reader follows one.
            assert tag == "a" and url.startswith(share), (path, url)
            link = re.search(rf'<a [^>]*href="{re.escape(url)}"[^>]*>', html).group(0)
            assert 'rel="noopener noreferrer"' in link, link


async def test_counter_document(client):
    html = (await client.get("/c/belarus/counter")).text
    assert "785 people have taken action" in html
    assert 'aria-live="polite"' in html
    assert "<form" not in html


async def test_goal_shows_a_progress_bar(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, goal=1000))
    await service.campaigns.reload(force=True)
    html = (await client.get("/c/belarus/embed")).text
    assert '<progress class="pw-progress" max="1000" value="785"' in html
    assert (await client.get("/api/campaigns/belarus")).json()["goal"] == 1000


async def change(client, **fields):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, **fields))
    await service.campaigns.reload(force=True)


@pytest.mark.parametrize(
    ("goal", "offset", "said"),
    [(1000, 785, "215 more to reach 1,000"), (786, 785, "1 more to reach 786"),
     (785, 785, "Goal of 785 reached"), (500, 785, "Goal of 500 reached")],
)  # fmt: skip
async def test_the_goal_says_how_many_are_missing(client, goal, offset, said):
    await change(client, goal=goal, counter_offset=offset)
    html = (await client.get("/c/belarus/embed")).text
    assert f'<p class="pw-goal" data-pw-goal-text>{said}</p>' in html
    assert f'max="{goal}" value="{min(goal, offset)}"' in html


async def test_the_goal_and_count_follow_a_signature(client):
    await change(client, goal=1000)
    answer = (await sign(client, signer(1))).json()
    assert (answer["count_text"], answer["goal_text"]) == (
        "786 people have taken action",
        "214 more to reach 1,000",
    )
    assert "214 more to reach 1,000" in (await client.get("/c/belarus/counter")).text


async def test_a_small_count_invites_rather_than_shows(client):
    """Below the campaign's counter_minimum, and at 0 whatever it is, readers see an
    invitation: no small number, no goal sentence, an empty bar. The API keeps the number."""
    await change(client, counter_offset=0, counter_minimum=3, goal=100)
    for path in ("/c/belarus/embed", "/c/belarus/counter", "/c/belarus", "/c/belarus/card"):
        html = (await client.get(path)).text
        assert "Be one of the first to sign" in html, path
        assert "people have taken action" not in html and "more to reach" not in html, path
    assert 'max="100" value="0"' in (await client.get("/c/belarus/embed")).text
    first = (await sign(client, signer(1))).json()
    assert (first["count"], first["count_text"], first["goal_text"]) == (
        1,
        "Be one of the first to sign",
        "",
    )
    await sign(client, signer(2))
    third = (await sign(client, signer(3))).json()
    assert (third["count_text"], third["goal_text"]) == (
        "3 people have taken action",
        "97 more to reach 100",
    )
    assert (await client.get("/api/campaigns/belarus")).json()["count"] == 3
    await change(client, counter_minimum=0)
    french = (await client.get("/c/belarus/embed?lang=fr")).text
    assert "3 personnes ont signé" in french


async def test_a_new_campaign_does_not_say_zero(client):
    await change(client, counter_offset=0)
    html = (await client.get("/c/belarus/embed?lang=ru")).text
    assert "Подпишите петицию одним из первых" in html and "0 человек" not in html


async def test_on_a_phone_the_hosted_page_leads_to_the_form_at_once(client):
    html = (await client.get("/c/belarus")).text
    jump = re.search(r'<p class="pw-jump">(.*?)</p>', html, re.S)
    assert jump is not None
    assert "785 people have taken action" in jump.group(1)
    assert '<a class="pw-button pw-button-link" href="#pw-sign">Sign now</a>' in jump.group(1)
    assert 'id="pw-sign"' in html
    assert html.index('class="pw-jump"') < html.index("<p>The world is shocked")
    await change(client, status="closed")
    assert 'class="pw-jump"' not in (await client.get("/c/belarus")).text


async def test_large_counts_are_formatted(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, counter_offset=1233))
    await service.campaigns.reload(force=True)
    await sign(client, signer(1))
    assert "1,234 people have taken action" in (await client.get("/c/belarus/embed")).text


async def test_api_campaign(client):
    response = await client.get("/api/campaigns/belarus")
    assert response.json() == {
        "slug": "belarus",
        "title": "Protect peaceful protesters in Belarus",
        "count": 785,
        "goal": None,
        "status": "open",
    }
    assert response.headers["access-control-allow-origin"] == "*"
    assert "max-age=" in response.headers["cache-control"]
    etag = response.headers["etag"]
    cached = await client.get("/api/campaigns/belarus", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    await sign(client, signer(1))
    changed = await client.get("/api/campaigns/belarus", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["count"] == 786


async def test_unknown_slug_is_a_404_page_and_a_json_404(client):
    for path in ["/c/nope", "/c/nope/embed", "/c/nope/counter"]:
        page = await client.get(path)
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]
        assert "Petition not found" in page.text
    api = await client.get("/api/campaigns/nope")
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"


async def test_demo_page_shows_the_snippet_and_uses_it(client):
    html = (await client.get("/")).text
    snippet = (
        "&lt;a href=&#34;http://testserver/c/belarus?partner=demo&amp;amp;lang=en&#34; "
        "data-campaign=&#34;belarus&#34; data-partner=&#34;demo&#34; data-lang=&#34;en&#34;&gt;"
        "Sign the petition&lt;/a&gt;\n"
        "&lt;script async src=&#34;http://testserver/embed.js&#34;&gt;&lt;/script&gt;"
    )
    assert snippet in html
    assert (
        '<a href="/c/belarus?partner=demo&amp;lang=en" data-campaign="belarus" '
        'data-partner="demo" data-lang="en">Sign the petition</a>\n'
        '<script async src="/embed.js"></script>'
    ) in html
    assert "frame-src 'self'" in (await client.get("/")).headers["content-security-policy"]


async def test_embed_js_is_served_as_javascript_and_cached(client):
    response = await client.get("/embed.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert "public" in response.headers["cache-control"]
    again = await client.get("/embed.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_partner_and_language_travel_into_the_form(client):
    html = (await client.get("/c/belarus/embed?partner=diaspora&lang=en")).text
    assert '<input type="hidden" name="partner" value="diaspora">' in html
    bad = (await client.get("/c/belarus/embed?partner=<b>x</b>")).text
    assert 'name="partner"' not in bad
    assert "<b>x</b>" not in bad


async def test_counter_counts_signatures_from_another_writer_within_its_lifetime(
    client_factory, database
):
    async with client_factory(counter_cache_seconds=0) as client:
        await sign(client, signer(1))
        # A second store on the same database (another process or instance) adds one.
        from tests.conftest import sealed_signature
        from widget.store import open_store

        other = open_store(database.url)
        await other.open()
        campaign = await client.app.state.service.campaigns.get("belarus")
        await other.add_signature(sealed_signature(signer(2), campaign))
        await other.close()
        assert await count(client) == 787


async def test_a_partners_new_origin_reaches_the_pages_without_a_restart(client_factory):
    """The rendered-page cache belongs to the app and empties when partners change, so the
    iframe's trusted hosts (and frame-ancestors) follow a partner's new origin."""
    from widget.partners import make_partner

    async with client_factory() as client, client_factory() as other:
        service = client.app.state.service
        assert service.pages is not other.app.state.service.pages
        before = await client.get("/c/belarus/embed")
        assert "https://new-partner.example" not in before.text
        assert len(service.pages) > 0
        partner = make_partner("newbie", "New Partner", origins=["https://new-partner.example"])
        await service.store.save_partner(partner)
        await service.campaigns.reload(force=True)
        after = await client.get("/c/belarus/embed")  # Belarus is framed from anywhere (*)
        assert 'data-pw-trusted="https://new-partner.example"' in after.text
