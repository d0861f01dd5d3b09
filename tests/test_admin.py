"""The operator who sets up a campaign, brings in a partner, and exports, keeping the promise
made to signers. Plus every guard: login, CSRF, rate limits."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace

import pytest

from tests.conftest import OPENER, count, sign, signer
from widget import exports, operations, operators, sealing

PASSWORD = "a long enough password"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


async def add_operator(client, email="op@example.org"):
    await client.app.state.service.store.save_operator(email, operators.hash_password(PASSWORD))


async def csrf(client, path="/admin"):
    page = await client.get(path)
    return CSRF_RE.search(page.text).group(1)


async def log_in(client, email="op@example.org", password=PASSWORD):
    token = await csrf(client, "/admin/login")
    return await client.post(
        "/admin/login", data={"csrf": token, "email": email, "password": password}
    )


async def post(client, path, data=None):
    token = await csrf(client)
    return await client.post(path, data={"csrf": token, **(data or {})})


NEW_CAMPAIGN = {
    "slug": "clean-water",
    "organisation": "Water Now",
    "title": "Clean water for all",
    "body": "First paragraph.\n\nSecond paragraph.",
    "demands": "Fix the pipes\nPublish the tests",
    "privacy_notice": "We never share your name.",
    "counter_offset": "10",
    "goal": "",
    "allowed_origins": "https://waternow.example",
    "theme_colour": "#005a9c",
    "status": "open",
    "language": "en",
    "thank_you": "Thanks!",
}


def opened(content: bytes, opener) -> list[list[str]]:
    lines = content.decode("utf-8").splitlines(keepends=True)
    text = "".join(exports.decrypt_csv(lines, opener))
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_operator_journey(client, tmp_path):
    await add_operator(client)
    assert (await log_in(client)).status_code == 303
    home = await client.get("/admin")
    assert "Protect peaceful protesters in Belarus" in home.text

    # A second campaign, and a partner who may embed it.
    created = await post(client, "/admin/campaigns/new", NEW_CAMPAIGN)
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/campaigns/clean-water"
    partner_private, partner_public = sealing.generate_keypair()
    partner = await post(
        client,
        "/admin/partners",
        {"code": "rivers", "name": "Rivers Trust", "contact": "a@rivers.example",
         "origins": "https://rivers.example", "public_key": partner_public},
    )  # fmt: skip
    assert partner.status_code == 303
    embed = await client.get("/c/clean-water/embed?partner=rivers")
    assert "Also share my name and email with Rivers Trust" in embed.text
    csp = embed.headers["content-security-policy"]
    assert "https://waternow.example" in csp and "https://rivers.example" in csp
    assert "Also share my name" not in (await client.get("/c/clean-water/embed")).text

    # Readers sign through the partner, with and without its opt-in, and directly.
    form = {"partner": "rivers"}
    await sign(
        client, signer(1, **form, partner_opt_in="1", last_name="Zzsurnameone"), "clean-water"
    )
    await sign(client, signer(2, **form, last_name="Zzsurnametwo"), "clean-water")
    await sign(client, signer(3, last_name="Zzsurnamethree"), "clean-water")
    assert await count(client, "clean-water") == 13

    page = await client.get("/admin/campaigns/clean-water")
    assert "<div><dt>Public count</dt><dd>13</dd></div>" in page.text
    assert "<svg" in page.text
    assert '<option value="rivers">' in page.text  # the snippet builder offers the partner
    # The partner's French snippet, its iframe-only code and the hosted page's address.
    built = await client.get(
        "/admin/campaigns/clean-water", params={"sn_partner": "rivers", "sn_lang": "fr"}
    )
    codes = re.findall(r'<pre class="pw-snippet" id="pa-[a-z]+"><code>(.*?)</code></pre>',
                       built.text, re.S)  # fmt: skip
    assert len(codes) == 3
    snippet_code, iframe_code, hosted_code = (html.unescape(c) for c in codes)
    assert 'data-campaign="clean-water" data-partner="rivers" data-lang="fr"' in snippet_code
    assert "/c/clean-water/embed?partner=rivers&amp;lang=fr" in iframe_code
    assert hosted_code.endswith("/c/clean-water?partner=rivers&lang=fr")
    assert 'src="/c/clean-water/embed?partner=rivers&amp;lang=fr"' in built.text  # the preview
    counter = await client.get(
        "/admin/campaigns/clean-water", params={"sn_mode": "counter", "sn_partner": "nope"}
    )
    assert "data-mode=&#34;counter&#34;" in counter.text and "nope" not in counter.text

    # The partner's signed link yields only the opted-in signers.
    made = await post(client, "/admin/campaigns/clean-water/partner-link", {"partner": "rivers"})
    link = re.search(
        r"(http://testserver/c/clean-water/partners/rivers/export\.csv\?token=[^<\s]+)", made.text
    ).group(1)
    link = link.replace("&amp;", "&")
    anonymous = client.__class__(transport=client._transport, base_url=client.base_url)
    partner_file = await anonymous.get(link)
    assert partner_file.status_code == 200
    assert b"Alesia" not in partner_file.content  # sealed: only the partner can read it
    rows = opened(partner_file.content, sealing.Opener(sealing.private_key(partner_private)))
    assert [r[0] for r in rows[1:]] == ["Alesia1"]

    # Rotating the partner's key revokes the link.
    await post(client, "/admin/partners/rivers/rotate")
    assert (await anonymous.get(link)).status_code == 401

    # The delivery export holds no surname and no email.
    delivery = await post(client, "/admin/campaigns/clean-water/export/delivery")
    assert delivery.status_code == 200
    body = delivery.content.decode("utf-8-sig")
    for secret in ["Zzsurname", "alesia1@", "alesia2@", "example.org", "Kavalchuk"]:
        assert secret not in body
    assert "Total signatures,13" in body

    # The operator's file comes sealed; the operator's private key opens it.
    operator_file = await post(client, "/admin/campaigns/clean-water/export/operator")
    assert b"Zzsurname" not in operator_file.content
    rows = opened(operator_file.content, OPENER)
    assert sorted(r[1] for r in rows[1:]) == ["Zzsurnameone", "Zzsurnamethree", "Zzsurnametwo"]

    # Deleting a signer lowers every count by one, and nothing else.
    before_belarus = await count(client, "belarus")
    deleted = await post(client, "/admin/signers", {"email": "ALESIA1@example.org"})
    assert "1 in clean-water" in deleted.text
    assert await count(client, "clean-water") == 12
    assert await count(client, "belarus") == before_belarus
    assert (
        "<div><dt>Public count</dt><dd>12</dd></div>"
        in (await client.get("/admin/campaigns/clean-water")).text
    )

    # Every step is in the audit log, with no signer data.
    audit = (await client.get("/admin/audit")).text
    for action in ["campaign.origins", "partner.save", "partner.link", "partner.rotate_key",
                   "export", "signer.delete"]:  # fmt: skip
        assert action in audit
    assert "alesia" not in audit.lower()

    logout = await post(client, "/admin/logout")
    assert logout.status_code == 303
    assert (await client.get("/admin")).status_code == 303


async def test_edit_campaign_validates_at_the_field_and_saves_nothing_half_way(client):
    await add_operator(client)
    await log_in(client)
    page = await client.get("/admin/campaigns/belarus")
    assert 'name="counter_offset" value="785"' in page.text
    bad = await post(
        client,
        "/admin/campaigns/belarus",
        {**NEW_CAMPAIGN, "title": "Changed title", "counter_offset": "many"},
    )
    assert bad.status_code == 422
    assert 'id="e-counter_offset"' in bad.text and "must be a whole number" in bad.text
    assert 'value="Changed title"' in bad.text  # the input is kept
    # The summary comes first, names the field by its label, links to it and takes the focus.
    summary = re.search(r'<div class="pw-summary" role="alert"([^>]*)>(.*?)</div>', bad.text, re.S)
    assert summary is not None and "data-pa-focus" in summary[1]
    assert bad.text.index("pw-summary") < bad.text.index("Signatures per day")
    assert (
        '<a href="#f-counter_offset">Counter offset (added to the real signatures): '
        "must be a whole number</a>" in summary[2]
    )
    assert (await client.get("/api/campaigns/belarus")).json()["title"].startswith("Protect")

    good = await post(
        client, "/admin/campaigns/belarus",
        {**NEW_CAMPAIGN, "counter_offset": "800", "allowed_origins": ""},
    )  # fmt: skip
    assert good.status_code == 303
    assert await count(client) == 800
    audit = (await client.get("/admin/audit")).text
    assert "counter_offset: 785 -&gt; 800" in audit


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin"),
        ("GET", "/admin/campaigns/new"),
        ("GET", "/admin/campaigns/belarus"),
        ("GET", "/admin/partners"),
        ("GET", "/admin/signers"),
        ("GET", "/admin/audit"),
        ("GET", "/admin/decrypt"),
        ("POST", "/admin/campaigns/new"),
        ("POST", "/admin/campaigns/belarus"),
        ("POST", "/admin/partners"),
        ("POST", "/admin/partners/x/rotate"),
        ("POST", "/admin/signers"),
        ("POST", "/admin/logout"),
        ("POST", "/admin/campaigns/belarus/partner-link"),
    ],
)
async def test_anonymous_requests_are_sent_to_log_in(client, method, path):
    response = await client.request(method, path, data={"csrf": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


@pytest.mark.parametrize("kind", ["operator", "delivery", "partner"])
async def test_anonymous_exports_get_401(client, kind):
    response = await client.post(f"/admin/campaigns/belarus/export/{kind}", data={"partner": "x"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/admin/campaigns/new", "/admin/campaigns/belarus", "/admin/partners", "/admin/signers",
     "/admin/campaigns/belarus/export/operator", "/admin/logout"],
)  # fmt: skip
@pytest.mark.parametrize("token", [None, "", "forged"])
async def test_posts_without_a_valid_csrf_token_are_refused(client, path, token):
    await add_operator(client)
    await log_in(client)
    data = {"email": "someone@example.org"} if token is None else {"csrf": token}
    response = await client.post(path, data=data)
    assert response.status_code == 403
    assert (await client.get("/admin")).status_code == 200  # still logged in


async def test_login_from_another_site_is_refused(client):
    await add_operator(client)
    token = await csrf(client, "/admin/login")
    response = await client.post(
        "/admin/login",
        data={"csrf": token, "email": "op@example.org", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


async def test_failed_logins_say_nothing_about_the_account_and_are_limited(client):
    await add_operator(client)
    unknown = await log_in(client, "nobody@example.org", "whatever password")
    wrong = await log_in(client, "op@example.org", "wrong password!!")
    assert unknown.status_code == wrong.status_code == 401
    assert "do not match" in unknown.text and "do not match" in wrong.text
    for _ in range(4):
        await log_in(client, "op@example.org", "wrong password!!")
    limited = await log_in(client)  # this network waits now, even with the right password
    assert limited.status_code == 429
    assert "Too many wrong passwords from your network" in limited.text
    assert 0 < int(limited.headers["retry-after"]) <= 60


async def test_session_cookie_flags(client):
    await add_operator(client)
    response = await log_in(client)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie  # plain HTTP here; over HTTPS it is added


async def test_login_redirect_never_leaves_the_admin(client):
    await add_operator(client)
    token = await csrf(client, "/admin/login")
    response = await client.post(
        "/admin/login?next=//evil.example/admin",
        data={"csrf": token, "email": "op@example.org", "password": PASSWORD},
    )
    assert response.headers["location"] == "/admin"


async def test_export_for_an_unknown_partner_or_kind_is_a_404(client):
    await add_operator(client)
    await log_in(client)
    assert (
        await post(client, "/admin/campaigns/belarus/export/partner", {"partner": "x\r\n"})
    ).status_code == 404
    assert (await post(client, "/admin/campaigns/belarus/export/everything")).status_code == 404


HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def test_invalidating_says_how_many_first_and_acts_only_when_told(client):
    await add_operator(client)
    await log_in(client)
    for n in range(3):
        await sign(client, signer(n, partner="bots"))
    await sign(client, signer(9))
    before = await count(client)
    path = "/admin/campaigns/belarus/review/invalidate"

    preview = await post(client, path, {"partner": "bots"})
    assert preview.status_code == 200
    assert "<h1>Invalidate 3 signature(s)?</h1>" in preview.text
    assert "the public count drops by 3" in preview.text
    assert await count(client) == before  # nothing changed yet
    replay = dict(HIDDEN_RE.findall(preview.text))
    assert (replay["proceed"], replay["partner"]) == ("1", "bots")

    done = await client.post(path, data=replay)
    assert done.status_code == 200 and "invalidate: 3 by partner=bots." in done.text
    assert await count(client) == before - 3

    nothing = await post(client, path, {"partner": "bots"})  # already invalid: none left
    assert "No signature matches" in nothing.text and 'name="proceed"' not in nothing.text


async def test_the_invalidation_preview_says_how_far_the_count_drops_with_held_signatures(client):
    """Held signatures never counted: invalidating them with counted ones drops the public
    count by the counted ones only, and the preview says so rather than promise more."""
    await add_operator(client)
    await log_in(client)
    await sign(client, signer(1, partner="bots"))
    store = client.app.state.service.store
    belarus = await operations.campaign(store, "belarus")
    await operations.save_campaign(store, "test", replace(belarus, hold_for_review=True))
    await client.app.state.service.campaigns.reload(force=True)
    for n in (2, 3):
        await sign(client, signer(n, partner="bots"))
    before = await count(client)
    path = "/admin/campaigns/belarus/review/invalidate"

    preview = await post(client, path, {"partner": "bots"})
    assert "<h1>Invalidate 3 signature(s)?</h1>" in preview.text
    assert "the public count drops by 1. 2 of them, held for review" in preview.text
    done = await client.post(path, data=dict(HIDDEN_RE.findall(preview.text)))
    assert "invalidate: 3 by partner=bots." in done.text
    assert await count(client) == before - 1
    await sign(client, signer(4, partner="bots"))  # held: none of them counts
    only_held = await post(client, path, {"partner": "bots"})
    assert "None of them counted (held for review or awaiting confirmation)" in only_held.text


async def test_a_mistake_in_the_abuse_tools_is_an_error_not_a_success(client):
    await add_operator(client)
    await log_in(client)
    empty = await post(client, "/admin/campaigns/belarus/review/invalidate", {})
    assert empty.status_code == 422
    problem = re.search(r'<div class="pw-summary" role="alert"[^>]*>(.*?)</div>', empty.text, re.S)
    assert problem is not None and "Name a partner, a time window or an email domain" in problem[1]
    assert 'class="pa-ok"' not in empty.text
    open_campaign = await post(client, "/admin/campaigns/belarus/review/purge", {"days": "0"})
    assert open_campaign.status_code == 422 and "Only a closed campaign" in open_campaign.text


async def test_purging_says_how_many_first(client):
    await add_operator(client)
    await log_in(client)
    await sign(client, signer(1))
    await sign(client, signer(2))
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, status="closed"))
    await service.campaigns.reload(force=True)
    path = "/admin/campaigns/belarus/review/purge"
    preview = await post(client, path, {"days": "0"})
    assert "<h1>Purge the personal data of 2 signature(s)?</h1>" in preview.text
    assert await service.store.count_purgeable("belarus", "9999-12-31T00:00:00Z") == 2
    done = await client.post(path, data=dict(HIDDEN_RE.findall(preview.text)))
    assert "purge: 2 signature(s) older than 0 days." in done.text
    assert await service.store.count_purgeable("belarus", "9999-12-31T00:00:00Z") == 0


async def test_the_decrypt_page_may_send_nothing_anywhere(client):
    await add_operator(client)
    await log_in(client)
    answer = await client.get("/admin/decrypt")
    assert answer.status_code == 200
    csp = dict(
        part.strip().split(" ", 1) for part in answer.headers["content-security-policy"].split(";")
    )
    assert csp["connect-src"] == "'none'" and csp["form-action"] == "'none'"
    assert csp["img-src"] == "'none'"
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'"
    scripts = re.findall(r'<script src="([^"]+)"', answer.text)
    assert [s.split("?")[0] for s in scripts] == [
        "/static/admin.js",
        "/static/vendor/libsodium.js",
        "/static/vendor/libsodium-wrappers.js",
        "/static/decrypt.js",
    ]
    for path in scripts:  # served from here, under their digest, for a year
        served = await client.get(path)
        assert served.status_code == 200 and "immutable" in served.headers["cache-control"]
    # Every other admin page keeps the ordinary policy.
    assert "connect-src 'self'" in (await client.get("/admin")).headers["content-security-policy"]


async def test_the_campaign_page_has_sections_and_says_what_its_colour_gives(client):
    await add_operator(client)
    await log_in(client)
    page = (await client.get("/admin/campaigns/belarus")).text
    nav = re.search(r'<nav aria-label="Sections of this campaign".*?</nav>', page, re.S)
    assert nav is not None
    for anchor in ("h-stats", "h-translations", "h-review", "h-exports", "h-embed", "h-edit"):
        assert f'href="#{anchor}"' in nav[0] and f'id="{anchor}"' in page
    assert "The button is #1a1a1a with white text (17.4:1)." in page


async def test_a_campaign_in_its_first_day_is_charted_per_hour(client):
    await add_operator(client)
    await log_in(client)
    await sign(client, signer(1))
    await sign(client, signer(2, partner="rivers", partner_opt_in="1"))
    page = (await client.get("/admin/campaigns/belarus")).text
    assert '<h2 id="h-stats">Signatures per hour, last 24 hours (UTC)</h2>' in page
    assert "2 signatures over 1 hour (UTC)" in page
    assert "<div><dt>Signatures received</dt><dd>2</dd></div>" in page
    assert page.count('<meter class="pa-meter"') == 3  # a country, two partner rows
