"""The snippet partners paste: a link to the hosted petition, carrying the widget's options,
then the loader, which replaces the link with the iframe. Where a CMS strips the script (a
WordPress Author's post, a hardened site) or a reader's browser blocks it, the link stays and
works. Built here once, for the admin, the demo page and the README."""

from __future__ import annotations

from markupsafe import escape

from widget.urls import URLs

# The link's text, as the loader (embed.js) has it for the same languages.
LINK_TEXT = {
    "en": "Sign the petition",
    "fr": "Signez la pétition",
    "be": "Падпішыце петыцыю",
    "ru": "Подпишите петицию",
}


def snippet(
    urls: URLs, slug: str, lang: str, partner: str | None = None, mode: str | None = None,
    load: str | None = None,
) -> str:  # fmt: skip
    """The HTML to paste. `urls` carries the service's public origin."""
    href = escape(urls.hosted(slug, lang=lang, partner=partner if mode != "counter" else None))
    text = escape(LINK_TEXT.get(lang, LINK_TEXT["en"]))
    return (
        f'<a href="{href}"{link_attributes(slug, lang, partner, mode, load)}>{text}</a>\n'
        f'<script async src="{escape(urls.embed_js())}"></script>'
    )


def link_attributes(
    slug: str, lang: str, partner: str | None = None, mode: str | None = None,
    load: str | None = None,
) -> str:  # fmt: skip
    """The link's data-* attributes the loader reads, escaped, each after a space."""
    options = {"data-campaign": slug, "data-partner": partner, "data-lang": lang,
               "data-mode": mode, "data-load": load}  # fmt: skip
    return "".join(f' {name}="{escape(value)}"' for name, value in options.items() if value)
