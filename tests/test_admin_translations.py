"""The translations editor: a campaign made in the admin gets its French texts there, readers
who choose French see them, what is left empty falls back, and the texts travel in the
campaign file (dump, then load)."""

from __future__ import annotations

import tomllib

import tomli_w

from tests.test_admin import NEW_CAMPAIGN, add_operator, log_in, post
from widget import campaigns, operations

FRENCH = {
    "title": "De l’eau potable pour tous",
    "body": "Premier paragraphe.\n\nDeuxième paragraphe.",
    "demands": "Réparer les tuyaux\nPublier les analyses",
}


async def test_a_campaign_made_in_the_admin_gets_its_french_texts_there(client):
    await add_operator(client)
    await log_in(client)
    assert (await post(client, "/admin/campaigns/new", NEW_CAMPAIGN)).status_code == 303
    page = await client.get("/admin/campaigns/clean-water")
    assert "Français</span>: 0 of 11 texts translated" in page.text

    editor = await client.get("/admin/campaigns/clean-water/translations/fr")
    assert editor.status_code == 200
    assert '<div class="pa-own-text" lang="en">Clean water for all</div>' in editor.text
    assert 'id="f-title" name="title" value="" lang="fr"' in editor.text
    assert "Empty: readers see the English text." in editor.text

    saved = await post(client, "/admin/campaigns/clean-water/translations/fr", FRENCH)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/campaigns/clean-water?saved=1#h-translations"
    assert (
        "Français</span>: 3 of 11 texts translated"
        in (await client.get("/admin/campaigns/clean-water")).text
    )

    french = (await client.get("/c/clean-water?lang=fr")).text
    assert "De l’eau potable pour tous" in french and "Deuxième paragraphe." in french
    assert "<li>Publier les analyses</li>" in french
    assert "We never share your name." in french  # not translated: the campaign's own
    assert "Clean water for all" in (await client.get("/c/clean-water")).text

    audit = (await client.get("/admin/audit")).text
    assert "translations" in audit


async def test_the_texts_travel_in_the_campaign_file(client):
    await add_operator(client)
    await log_in(client)
    await post(client, "/admin/campaigns/new", NEW_CAMPAIGN)
    await post(client, "/admin/campaigns/clean-water/translations/fr", FRENCH)
    stored = await operations.campaign(client.app.state.service.store, "clean-water")
    dumped = tomli_w.dumps(stored.to_dict(), multiline_strings=True)
    assert "[translations.fr]" in dumped
    loaded = campaigns.parse(tomllib.loads(dumped))
    assert loaded.content("fr").title == "De l’eau potable pour tous"
    assert loaded.content("fr").demands == ("Réparer les tuyaux", "Publier les analyses")
    assert loaded == stored and loaded.translations == stored.translations


async def test_emptying_every_text_removes_the_translation(client):
    await add_operator(client)
    await log_in(client)
    await post(client, "/admin/campaigns/new", NEW_CAMPAIGN)
    await post(client, "/admin/campaigns/clean-water/translations/fr", FRENCH)
    await post(client, "/admin/campaigns/clean-water/translations/fr", {})
    stored = await operations.campaign(client.app.state.service.store, "clean-water")
    assert "fr" not in stored.translations


async def test_a_refused_text_is_shown_at_its_field_and_nothing_is_saved(client):
    await add_operator(client)
    await log_in(client)
    await post(client, "/admin/campaigns/new", NEW_CAMPAIGN)
    long_title = "T" * 201
    refused = await post(
        client, "/admin/campaigns/clean-water/translations/ru", {"title": long_title}
    )
    assert refused.status_code == 422
    assert '<a href="#f-title">Title: must be at most 200 characters (it has 201)</a>' in (
        refused.text
    )
    assert 'aria-invalid="true"' in refused.text and long_title in refused.text
    stored = await operations.campaign(client.app.state.service.store, "clean-water")
    assert "ru" not in stored.translations


async def test_only_other_languages_can_be_edited_and_only_by_operators(client):
    assert (await client.get("/admin/campaigns/belarus/translations/fr")).status_code in (
        302, 303,
    )  # fmt: skip
    await add_operator(client)
    await log_in(client)
    for lang in ("en", "de", "xx"):  # the campaign's own, unknown ones
        answer = await client.get(f"/admin/campaigns/belarus/translations/{lang}")
        assert answer.status_code == 404, lang
    assert (await client.get("/admin/campaigns/nope/translations/fr")).status_code == 404
