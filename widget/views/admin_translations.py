"""The translations editor: a campaign's texts in another language, each beside the
campaign's own, saved where a campaign file's [translations.LANG] goes (so `campaign dump`
and `campaign load` carry them). A text left empty falls back to the campaign's own."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from widget import auth, campaigns
from widget.campaigns import Campaign, CampaignError
from widget.i18n import autonym
from widget.texts import LANGUAGES, TEXT_FIELDS
from widget.urls import URLs
from widget.views.admin import guarded_post, page
from widget.views.admin_campaigns import save_campaign
from widget.views.guards import campaign_or_404

LONG = ("body", "demands", "privacy_notice", "thank_you")


def _language(request: Request, campaign: Campaign) -> str:
    lang: str = request.path_params["lang"]
    if lang not in LANGUAGES or lang == campaign.language:
        raise HTTPException(404, "Translate into another language than the campaign's own.")
    return lang


def _shown(content: object) -> dict[str, str]:
    """The texts as the form shows them: paragraphs and demands one block each."""
    shown = {name: getattr(content, name) for name in TEXT_FIELDS}
    shown["body"] = "\n\n".join(shown["body"])
    shown["demands"] = "\n".join(shown["demands"])
    return shown


def _editor(
    request: Request, campaign: Campaign, lang: str, values: dict[str, str],
    error: CampaignError | None = None, status: int = 200,
) -> Response:  # fmt: skip
    public = URLs(str(request.base_url).rstrip("/"))
    return page(
        request, "admin/translation.html", status, campaign=campaign, lang=lang,
        language_name=autonym(lang), own_name=autonym(campaign.language), fields=TEXT_FIELDS,
        long=LONG, own=_shown(campaign.content(campaign.language)), values=values,
        error=error, hosted=public.hosted(campaign.slug, lang=lang),
    )  # fmt: skip


async def editor(request: Request) -> Response:
    auth.require_operator(request)
    campaign = await campaign_or_404(request)
    lang = _language(request, campaign)
    stored = campaign.translations.get(lang)
    return _editor(request, campaign, lang, _shown(stored) if stored else {})


async def save(request: Request) -> Response:
    auth.require_operator(request)
    campaign = await campaign_or_404(request)
    lang = _language(request, campaign)
    who, form = await guarded_post(request)
    texts: dict[str, object] = {}
    for name in TEXT_FIELDS:
        value = form.get(name, "").strip()
        if name == "demands":
            lines = [line.strip() for line in value.splitlines() if line.strip()]
            if lines:
                texts[name] = lines
        elif value:
            texts[name] = value
    data = campaign.to_dict()
    tables = dict(data.get("translations", {}))
    if texts:
        tables[lang] = texts
    else:
        tables.pop(lang, None)
    data["translations"] = tables
    try:
        new = campaigns.parse(data)
    except CampaignError as exc:
        field = exc.field.removeprefix(f"translations.{lang}.")
        return _editor(request, campaign, lang, form, CampaignError(field, exc.problem), 422)
    await save_campaign(request, who, form, campaign, new)
    return RedirectResponse(URLs().campaign(campaign.slug) + "?saved=1#h-translations", 303)
