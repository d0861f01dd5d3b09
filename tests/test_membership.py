"""Nobody can find out who signed by signing: a repeated address is stored, counted and answered
exactly like a new one, through the JSON answer, the form post and the page without JavaScript,
on each backend. (How long each takes is measured by bench/timing.py, never asserted here.)"""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest

from tests.conftest import count, sign, signer

# Headers that differ between any two responses, whoever signed.
VARYING = {"date", "content-length"}


# What is random for every signature, whoever made it: the withdrawal code and the receipt that
# carries it to the thank-you page. Both are masked; their shape is kept.
RANDOM = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}|receipt=[\w-]+")


def masked(text: str) -> str:
    return RANDOM.sub(lambda m: "receipt=R" if m[0].startswith("receipt=") else "CODE", text)


def headers(response: httpx.Response) -> dict[str, str]:
    return {k: masked(v) for k, v in response.headers.items() if k not in VARYING}


async def answer(client: httpx.AsyncClient, form: dict[str, str], json: bool) -> tuple:
    """What the signer (or anyone watching) gets back: status, headers, body, and the page
    the form post leads to; the count that moved is put back as a placeholder."""
    response = await sign(client, form, json=json)
    shown = await count(client)
    pages = [response]
    if response.status_code == 303:
        pages.append(await client.get(response.headers["location"]))
    # The count is put back after the codes are masked, and only where it stands alone: a
    # code or an asset's digest may hold its digits (a code with "788" in it once made this
    # test fail).
    alone = re.compile(rf"(?<![0-9A-Za-z]){re.escape(f'{shown:,}')}(?![0-9A-Za-z])")
    return shown, [
        (page.status_code, headers(page), alone.sub("COUNT", masked(page.text))) for page in pages
    ]


@pytest.mark.parametrize(
    ("json", "view"), [(True, "embed"), (False, "embed"), (False, "hosted")],
    ids=["json", "form", "without-javascript"],
)  # fmt: skip
async def test_a_repeat_is_counted_and_answered_like_a_new_address(client, json, view):
    start = await count(client)
    first, _ = await answer(client, signer(1, view=view), json)
    repeated, repeat_answer = await answer(
        client, signer(1, view=view, email="ALESIA1@example.org"), json
    )
    new, new_answer = await answer(client, signer(2, view=view), json)
    assert (first, repeated, new) == (start + 1, start + 2, start + 3)
    assert repeat_answer == new_answer
    assert "COUNT" in repeat_answer[-1][2]  # the count was in the answer, and moved by one
    assert "CODE" in repeat_answer[-1][2]  # and each signature's own withdrawal code


async def test_a_repeat_takes_the_same_path_and_writes_the_same_kind_of_row(client, database):
    """Both go through the writer and its one INSERT; neither is looked up first."""
    store = client.app.state.service.store
    committed = []
    original = store._store_batch

    async def spy(batch):
        committed.extend(signature.email_key for signature in batch)
        return await original(batch)

    store._store_batch = spy
    await sign(client, signer(1))
    await sign(client, signer(1, email="ALESIA1@example.org"))
    assert len(committed) == 2 and committed[0] == committed[1]
    rows = database.rows(
        "SELECT email_key, sealed IS NULL, domain_key IS NULL, country, held, invalid "
        "FROM signatures ORDER BY id"
    )
    assert len(rows) == 2 and rows[0] == rows[1]


async def test_operators_still_see_one_signer(client):
    await sign(client, signer(1))
    await sign(client, signer(1, email="ALESIA1@example.org"))
    store = client.app.state.service.store
    assert (await store.counts())["belarus"] == 2
    assert (await store.unique_signers())["belarus"] == 1


async def test_an_operator_session_cannot_tell_a_repeat_from_a_new_address(client):
    """An infiltrator among the operators, or a stolen admin session, can also sign with any
    address. Two campaigns with the same history, then a repeat in one and a new address in the
    other: the admin's front page and each campaign's page say the same of both, so no figure
    an operator reads (a count of distinct addresses would) tells whether an address had signed.
    Exports, which list each signer once, need the password again and are shown to every
    operator (test_admin.py)."""
    from tests.test_admin import CSRF_RE, add_operator, log_in

    service = client.app.state.service
    belarus = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(belarus, slug="twin"))
    await service.campaigns.reload(force=True)
    for slug in ("belarus", "twin"):
        assert (await sign(client, signer(1), slug=slug)).status_code == 200
    await sign(client, signer(1, email="ALESIA1@example.org"), slug="belarus")  # a repeat
    await sign(client, signer(2), slug="twin")  # an address new to the campaign
    await add_operator(client)
    await log_in(client)

    def seen(text: str, slug: str) -> str:
        return CSRF_RE.sub("CSRF", text).replace(slug, "SLUG")

    home = (await client.get("/admin")).text
    rows = {slug: re.search(rf"<tr>(?:(?!</tr>).)*?/admin/campaigns/{slug}\b.*?</tr>", home, re.S)
            for slug in ("belarus", "twin")}  # fmt: skip
    assert all(rows.values()), home
    assert seen(rows["belarus"][0], "belarus") == seen(rows["twin"][0], "twin")
    assert "<td>787</td><td>2</td>" in rows["belarus"][0]
    pages = {slug: (await client.get(f"/admin/campaigns/{slug}")).text for slug in rows}
    assert "2 signatures received + offset 785" in pages["belarus"]
    assert seen(pages["belarus"], "belarus") == seen(pages["twin"], "twin")
