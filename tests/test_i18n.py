"""Readers in English, French, Belarusian and Russian: the catalogs are complete and compiled,
plurals and numbers follow each language, and the pages speak the reader's language."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from tests.conftest import fresh_token, sign, signer
from widget import counter, i18n
from widget.campaigns import LANGUAGES
from widget.countries import country_choices, sort_key

ROOT = Path(__file__).parent.parent
TRANSLATED = [language for language in LANGUAGES if language != "en"]  # English is the source


def catalog(language: str) -> Catalog:
    with open(i18n.LOCALES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def template() -> Catalog:
    with open(i18n.LOCALES / "messages.pot", "rb") as handle:
        return read_po(handle)


def frozen(value: str | list | tuple) -> str | tuple:
    """A message id or string as a dict key: plural ones come as lists."""
    return value if isinstance(value, str) else tuple(value)


def test_the_template_holds_every_message_in_the_sources():
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {message for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options_map)}
    in_template = {frozen(m.id) for m in template() if m.id}
    assert "Enter your first name." in extracted  # N_() in widget/signing.py
    assert "We could not record your signature just now. Please try again." in extracted
    assert in_template == extracted, "run the pybabel extract and update commands in the README"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language):
    translated = catalog(language)
    assert translated.plural_forms == Catalog(locale=language).plural_forms
    for message in template():
        if not message.id:
            continue
        found = translated.get(message.id)
        assert found is not None, (language, message.id)
        assert not found.fuzzy, (language, message.id)
        strings = found.string if message.pluralizable else (found.string,)
        assert len(strings) == (translated.num_plurals if message.pluralizable else 1)
        assert all(strings), (language, message.id)
    problems = [(m.id, errors) for m, errors in translated.check()]
    assert problems == []  # e.g. a %(placeholder)s missing or misspelt


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalog_matches_its_source(language):
    with open(i18n.LOCALES / language / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = {frozen(m.id): frozen(m.string) for m in read_mo(handle) if m.id}
    source = {frozen(m.id): frozen(m.string) for m in catalog(language) if m.id and not m.fuzzy}
    assert compiled == source, "run pybabel compile -d widget/locales"


@pytest.mark.parametrize(
    ("language", "count", "sentence"),
    [
        ("en", 1, "1 person has taken action"),
        ("en", 2, "2 people have taken action"),
        ("en", 1234, "1,234 people have taken action"),
        ("fr", 1, "1 personne a signé"),
        ("fr", 2, "2 personnes ont signé"),
        ("fr", 785, "785 personnes ont signé"),
        ("fr", 1234, "1\u202f234 personnes ont signé"),
        ("fr", 0, "0 personne a signé"),
        # CLDR 47 (Babel 2.19): French has a "many" form for round millions ("de personnes").
        ("fr", 1_000_000, "1\u202f000\u202f000 de personnes ont signé"),
        ("fr", 3_000_000, "3\u202f000\u202f000 de personnes ont signé"),
        ("fr", 1_000_001, "1\u202f000\u202f001 personnes ont signé"),
        ("be", 1, "1 чалавек падпісаў петыцыю"),
        ("be", 2, "2 чалавекі падпісалі петыцыю"),
        ("be", 5, "5 чалавек падпісалі петыцыю"),
        ("be", 11, "11 чалавек падпісалі петыцыю"),
        ("be", 12, "12 чалавек падпісалі петыцыю"),
        ("be", 14, "14 чалавек падпісалі петыцыю"),
        ("be", 112, "112 чалавек падпісалі петыцыю"),
        ("be", 21, "21 чалавек падпісаў петыцыю"),
        ("be", 22, "22 чалавекі падпісалі петыцыю"),
        ("be", 25, "25 чалавек падпісалі петыцыю"),
        ("be", 785, "785 чалавек падпісалі петыцыю"),
        ("be", 1234, "1\xa0234 чалавекі падпісалі петыцыю"),
        ("ru", 1, "1 человек подписал петицию"),
        ("ru", 2, "2 человека подписали петицию"),
        ("ru", 5, "5 человек подписали петицию"),
        ("ru", 12, "12 человек подписали петицию"),
        ("ru", 14, "14 человек подписали петицию"),
        ("ru", 104, "104 человека подписали петицию"),
        ("ru", 21, "21 человек подписал петицию"),
        ("ru", 22, "22 человека подписали петицию"),
        ("ru", 25, "25 человек подписали петицию"),
        ("ru", 785, "785 человек подписали петицию"),
        ("ru", 1234, "1\xa0234 человека подписали петицию"),
    ],
)
def test_counter_sentence_plurals(language, count, sentence):
    assert counter.sentence(count, language) == sentence


@pytest.mark.parametrize(
    ("requested", "accept_language", "default", "chosen"),
    [
        ("fr", "ru,en;q=0.5", "en", "fr"),  # data-lang / ?lang= first
        ("FR-ca", None, "en", "fr"),
        ("be_BY", None, "en", "be"),
        ("de", "ru", "en", "ru"),  # an unknown choice falls through
        ("", "fr-CA,fr;q=0.9,en;q=0.8", "en", "fr"),
        (None, "de-DE,de;q=0.9,be;q=0.5,ru;q=0.8", "en", "ru"),  # by quality
        (None, "be, ru", "en", "be"),  # equal quality: the order given
        (None, "ru;q=0, fr;q=0.1", "en", "fr"),  # q=0 means "not this"
        (None, "ru;q=bad, fr;q=0.1", "en", "fr"),
        (None, "de, es", "fr", "fr"),  # then the campaign's default
        (None, None, "be", "be"),
        (None, "*", "ru", "ru"),
    ],
)
def test_negotiate(requested, accept_language, default, chosen):
    assert i18n.negotiate(requested, accept_language, default) == chosen


async def test_the_iframe_in_french(client):
    html = (await client.get("/c/belarus/embed?lang=fr")).text
    assert '<html lang="fr"' in html
    for text in [
        "785 personnes ont signé",
        '<label for="pw-first_name">Prénom</label>',
        '<label for="pw-last_name">Nom</label>',
        '<label for="pw-email">Courriel</label>',
        '<label for="pw-country">Pays</label>',
        '<option value="">Choisissez votre pays</option>',
        "Signez la pétition</button>",
        "menées par Amnesty International Canada.",
        '<input type="hidden" name="lang" value="fr">',
    ]:
        assert text in html, text
    for english in ["First name", "people have taken action", "Add your name"]:
        assert english not in html


@pytest.mark.parametrize(
    ("language", "heading", "email_error"),
    [
        ("fr", "Il y a un problème", "Saisissez une adresse courriel valide"),
        ("be", "Узнікла праблема", "Увядзіце сапраўдны адрас электроннай пошты"),
        ("ru", "Возникла проблема", "Введите правильный адрес электронной почты"),
    ],
)
async def test_errors_in_the_readers_language(client, language, heading, email_error):
    form = signer(1, lang=language, first_name="", email="x@", country="XX")
    body = (await sign(client, form)).json()
    assert body["errors"]["email"].startswith(email_error)
    assert body["errors"]["first_name"] == i18n.translations(language).gettext(
        "Enter your first name."
    )
    assert body["errors"]["first_name"] != "Enter your first name."

    page = await sign(client, form, json=False)
    assert page.status_code == 422
    assert f"<h2>{heading}</h2>" in page.text
    assert email_error in page.text
    assert f'<html lang="{language}"' in page.text


async def test_refusals_in_french(client):
    token = await fresh_token(client)
    too_fast = await sign(client, signer(1, lang="fr", website="x"), token=token)
    assert too_fast.json()["errors"]["form"] == "Cet envoi semble automatisé et a été refusé."
    foreign = await sign(
        client, signer(1), headers={"Origin": "https://elsewhere.example", "Accept-Language": "fr"}
    )
    assert foreign.status_code == 403
    assert "autres sites" in foreign.json()["errors"]["form"]
    page = await sign(
        client,
        signer(1),
        json=False,
        headers={"Origin": "https://elsewhere.example", "Accept-Language": "fr"},
    )
    assert page.status_code == 403
    assert "Les formulaires envoyés depuis d’autres sites sont refusés." in page.text

    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, status="closed"))
    await service.campaigns.reload(force=True)
    closed = await sign(client, signer(2, lang="fr"), token=token)
    assert closed.json()["errors"]["form"] == "Cette pétition est fermée."
    assert "Cette pétition est fermée." in (await client.get("/c/belarus?lang=fr")).text


async def test_a_database_error_in_russian(client, database):
    with database.writes_refused():
        response = await sign(client, signer(1, lang="ru"))
    assert response.status_code == 503
    assert response.json()["errors"]["form"] == (
        "Не удалось сохранить вашу подпись. Попробуйте ещё раз."
    )


async def test_accept_language_picks_the_language(client):
    html = (await client.get("/c/belarus/embed", headers={"Accept-Language": "be,ru;q=0.8"})).text
    assert '<html lang="be"' in html
    assert "785 чалавек падпісалі петыцыю" in html


async def test_numbers_are_formatted_for_the_readers_locale(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, counter_offset=1233, goal=10000))
    await service.campaigns.reload(force=True)
    response = await sign(client, signer(1, lang="fr"))
    assert response.json()["count_text"] == "1\u202f234 personnes ont signé"
    french = (await client.get("/c/belarus/embed?lang=fr")).text
    assert format_decimal(1234, locale="fr") == "1\u202f234"  # CLDR's narrow no-break space
    assert "1\u202f234 personnes ont signé" in french
    assert "Encore 8\u202f766 signatures pour atteindre 10\u202f000" in french
    assert (
        "1\xa0234 человека подписали петицию" in (await client.get("/c/belarus/embed?lang=ru")).text
    )
    assert "1,234 people have taken action" in (await client.get("/c/belarus/embed")).text


@pytest.mark.parametrize(
    ("language", "title", "text"),
    [
        ("en", "Petition not found", "There is no petition at this address."),
        ("fr", "Pétition introuvable", "Il n’y a pas de pétition à cette adresse."),
        ("be", "Петыцыя не знойдзеная", "Па гэтым адрасе петыцыі няма."),
        ("ru", "Петиция не найдена", "По этому адресу петиции нет."),
    ],
)
async def test_not_found_page_in_each_language(client, language, title, text):
    page = await client.get(f"/c/nope?lang={language}")
    assert page.status_code == 404
    assert title in page.text and text in page.text
    assert f'<html lang="{language}"' in page.text


@pytest.mark.parametrize(
    ("language", "title", "texts"),
    [
        (
            "fr",
            "Protégez les manifestants pacifiques au Bélarus",
            [
                "Nous appelons le ministre de l’Intérieur de la République du Bélarus à\xa0:",
                "<li>Mettre fin immédiatement à la répression policière violente",
                "Des centaines de milliers de Bélarussiennes et de Bélarussiens",
                "les noms complets ne seront pas transmis aux autorités bélarussiennes",
                "Amnesty International Canada",  # the organisation keeps its name
            ],
        ),
        (
            "be",
            "Абараніце мірных пратэстоўцаў у Беларусі",
            [
                "Мы заклікаем міністра ўнутраных спраў Рэспублікі Беларусь:",
                "<li>Неадкладна спыніць гвалтоўныя рэпрэсіі міліцыі",
                "поўныя імёны (імя і прозвішча) не будуць перададзеныя беларускім уладам",
            ],
        ),
        (
            "ru",
            "Защитите мирных протестующих в Беларуси",
            [
                "Мы призываем министра внутренних дел Республики Беларусь:",
                "<li>Немедленно прекратить жестокие репрессии милиции",
                "полные имена (имя и фамилия) не будут переданы белорусским властям",
            ],
        ),
    ],
)
async def test_the_campaign_in_each_language(client, language, title, texts):
    hosted = (await client.get(f"/c/belarus?lang={language}")).text
    assert f'<h1 class="pw-title">{title}</h1>' in hosted
    for text in texts:
        assert text in hosted, text
    assert "Protect peaceful protesters" not in hosted
    assert "Immediately end" not in hosted
    for frame in ["embed", "counter"]:
        assert title in (await client.get(f"/c/belarus/{frame}?lang={language}")).text


async def test_an_untranslated_text_falls_back_to_the_campaigns_language(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    partial = {"fr": replace(campaign.translations["fr"], tagline="", demands=())}
    await service.store.save_campaign(replace(campaign, translations=partial))
    await service.campaigns.reload(force=True)
    french = (await client.get("/c/belarus?lang=fr")).text
    assert "Protégez les manifestants pacifiques au Bélarus" in french
    assert "Stop police using brutal violence in the streets and in detention" in french
    assert "Immediately end the violent police crackdown" in french
    russian = (await client.get("/c/belarus?lang=ru")).text  # no Russian texts any more
    assert "Protect peaceful protesters in Belarus" in russian
    assert "785 человек подписали петицию" in russian


async def test_translations_survive_the_store(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    assert set(campaign.translations) == {"fr", "be", "ru"}
    stored = [c for c, _ in await service.store.campaigns() if c.slug == "belarus"]
    assert stored == [campaign]
    assert campaign.content("fr").body[0].startswith("Le monde est sous le choc")
    assert len(campaign.content("ru").demands) == 3
    assert campaign.content("en").title == "Protect peaceful protesters in Belarus"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_html_lang_and_dir(client, language):
    for path in ["/", "/c/belarus", "/c/belarus/embed", "/c/belarus/counter", "/c/nope"]:
        html = (await client.get(f"{path}?lang={language}")).text
        assert f'<html lang="{language}" dir="ltr" data-theme=' in html, path


def test_direction_follows_cldr():
    assert [i18n.direction(language) for language in LANGUAGES] == ["ltr"] * 4
    assert i18n.direction("ar") == i18n.direction("he") == "rtl"


@pytest.mark.parametrize(
    ("language", "belarus", "in_order"),
    [
        ("en", "Belarus", ["Afghanistan", "Åland Islands", "Albania", "Zimbabwe"]),
        # Canadian French names, as the campaign texts say "Bélarus" (France's CLDR: Biélorussie).
        ("fr", "Bélarus", ["Danemark", "Égypte", "Espagne", "États-Unis", "Fidji"]),
        ("fr", "Bélarus", ["Hongrie", "Îles Caïmans", "Îles Marshall", "Inde", "Italie"]),
        ("fr", "Bélarus", ["Barbade", "Bélarus", "Belgique", "Bénin"]),
        ("be", "Беларусь", ["Зімбабвэ", "Індыя", "Італія", "Казахстан", "Японія"]),
        ("ru", "Беларусь", ["Италия", "Йемен", "Казахстан", "Япония"]),
    ],
)
async def test_countries_in_the_readers_language_and_order(client, language, belarus, in_order):
    names = [name for _, name in country_choices(language)]
    assert names == sorted(names, key=lambda name: sort_key(name, language))
    positions = [names.index(name) for name in in_order]
    assert positions == sorted(positions)
    html = (await client.get(f"/c/belarus/embed?lang={language}")).text
    assert f'<option value="BY">{belarus}<' in html


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "A partner page with the petition embedded"),
        ("fr", "Une page partenaire où la pétition est intégrée"),
        ("be", "Старонка партнёра з убудаванай петыцыяй"),
        ("ru", "Страница партнёра со встроенной петицией"),
    ],
)
async def test_demo_page_in_each_language_with_its_switcher(client, language, heading):
    html = (await client.get(f"/?lang={language}")).text
    assert heading in html
    assert f'data-lang="{language}"' in html  # the snippet and the live widget follow it
    for code, name in [("en", "English"), ("fr", "Français"), ("be", "Беларуская"),
                       ("ru", "Русский")]:  # fmt: skip
        link = f'<a href="/?lang={code}" hreflang="{code}" lang="{code}"'
        assert link in html
        current = ' aria-current="page"' if code == language else ""
        assert f"{link}{current}>{name}</a>" in html
