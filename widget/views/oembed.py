"""oEmbed (https://oembed.com): a hosted-page URL pasted on its own line in WordPress, Ghost,
Drupal and others becomes the petition's card (views/embed.py card_frame): the count, the goal
and a button that opens the hosted page. The card works inside WordPress's sandbox, which runs
scripts but allows no form, so it carries no form: signing happens on the hosted page. A
consumer that shows the HTML as it is, script included (it trusts the provider), gets the full
petition instead: the loader replaces the card."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from markupsafe import escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from widget import i18n, signing
from widget.security import own_origin
from widget.service import service_of
from widget.snippets import link_attributes
from widget.urls import URLs

WIDTH = 600  # the card's width at most, and its width when the consumer sets no maximum
# The card's height for the width it is given (from each band's narrowest width): room for
# the tallest language, a seven-digit count, a goal and the update note, measured every 20 px
# from 200 to 600 (tests/browser/test_iframe_only_code.py holds it). WordPress then sets the
# height from the card's own message; a consumer that runs no script shows the card at this
# height, so it must not cut the button off.
HEIGHTS = ((600, 280), (560, 310), (360, 360), (280, 440), (240, 540), (1, 600))
HOSTED_PATH = re.compile(r"/c/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)/?")
NOT_OURS = "That URL is not a petition of this service."


def _dimension(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(400, f"{name} must be a whole number of pixels.")
    return min(int(raw), default)


def card_height(width: int) -> int:
    return next(height for narrowest, height in HEIGHTS if width >= narrowest)


async def oembed(request: Request) -> Response:
    service = service_of(request)
    if request.query_params.get("format", "json") != "json":
        raise HTTPException(501, "Only format=json is offered.")
    origin = own_origin(request, service.settings.public_url)
    target = urlsplit(request.query_params.get("url", ""))
    found = HOSTED_PATH.fullmatch(target.path)
    if f"{target.scheme}://{target.netloc}".lower() != origin.lower() or found is None:
        raise HTTPException(404, NOT_OURS)
    campaign = await service.campaigns.get(found.group(1))
    if campaign is None:
        raise HTTPException(404, NOT_OURS)
    width = _dimension(request, "maxwidth", WIDTH)
    height = _dimension(request, "maxheight", card_height(width))
    query = parse_qs(target.query)
    language = i18n.negotiate((query.get("lang") or [""])[0], None, campaign.language)
    try:
        partner = signing.normalise_partner((query.get("partner") or [""])[0] or None)
    except ValueError:
        partner = None
    content = campaign.content(language)
    urls = URLs(origin)
    card = urls.card(campaign.slug, lang=language, partner=partner)
    hosted = urls.hosted(campaign.slug, lang=language, partner=partner)
    # The quote first, as WordPress's own embeds have it: WordPress loads its embed script
    # (the card's height, its button opening the hosted page) only for an embed that has one,
    # and shows it until the card answers; it removes the data attributes and the script.
    # Consumers that show the HTML as it is run the loader, which puts the full petition in
    # the place of the quote and the card.
    data = link_attributes(campaign.slug, language, partner)
    html = (
        f'<blockquote style="display:none"><a href="{escape(hosted)}"{data} data-oembed="1">'
        f"{escape(content.title)}</a></blockquote>"
        f'<iframe src="{escape(card)}" width="{width}" height="{height}" '
        f'title="{escape(content.title)}" frameborder="0" scrolling="no"></iframe>'
        f'<script async src="{escape(urls.embed_js())}"></script>'
    )
    body = {
        "version": "1.0", "type": "rich", "title": content.title,
        "author_name": content.organisation, "provider_name": content.organisation,
        "provider_url": origin, "html": html, "width": width, "height": height,
        "cache_age": 3600,
    }  # fmt: skip
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=3600"})
