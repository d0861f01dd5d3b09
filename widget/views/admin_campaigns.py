"""The admin's campaign pages: create, edit, and the campaign page with its statistics,
translations summary, abuse tools, exports and the partners' snippet builder. Guards first;
one handler per method; the helpers every admin page shares are in views/admin.py."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from widget import auth, campaigns, chart, exports, operations, security
from widget.campaigns import Campaign, CampaignError
from widget.countries import country_choices
from widget.service import service_of
from widget.snippets import snippet
from widget.store.types import Stats
from widget.templating import describe_colour
from widget.texts import LANGUAGES
from widget.texts import TEXT_FIELDS as CONTENT_FIELDS
from widget.urls import URLs
from widget.views.admin import ADMIN, confirmed, guarded_post, hours_ago, page
from widget.views.guards import campaign_or_404

TEXT_FIELDS = (
    "organisation", "title", "tagline", "target", "call_to_action", "privacy_notice",
    "thank_you", "share_text", "video_title", "video_url", "body",
)  # fmt: skip
LIST_FIELDS = ("demands", "allowed_origins")
NUMBER_FIELDS = (
    "counter_offset", "counter_minimum", "count_every_hours", "goal", "purge_after_days"
)  # fmt: skip


def _campaign_data(form: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """Campaign data from the edit form, over the stored data (so fields the form does not
    show, such as translations, are kept)."""
    data = dict(base)
    for name in TEXT_FIELDS:
        data[name] = form.get(name, "")
    for name in LIST_FIELDS:
        data[name] = [line.strip() for line in form.get(name, "").splitlines() if line.strip()]
    if not data["allowed_origins"]:
        data["allowed_origins"] = [campaigns.ANY_ORIGIN]
    for name in NUMBER_FIELDS:
        raw = form.get(name, "").strip()
        if not raw:
            data.pop(name, None)
            continue
        try:
            data[name] = int(raw)
        except ValueError:
            raise CampaignError(name, "must be a whole number") from None
    data["status"] = form.get("status", campaigns.OPEN)
    data["language"] = form.get("language", "en")
    data["theme_colour"] = form.get("theme_colour", "")
    data["closes_at"] = form.get("closes_at", "").strip()
    data["ask_postal_code"] = form.get("ask_postal_code") == "1"
    data["hold_for_review"] = form.get("hold_for_review") == "1"
    data["confirm_email"] = form.get("confirm_email") == "1"
    return data


async def save_campaign(
    request: Request, who: str, form: dict[str, str], old: Campaign | None, new: Campaign
) -> None:
    """Save with its audit entry, and make the running service see the change at once. An
    edit that stands for a dangerous act (`operations.guarded_change`: new trusted hosts, a new
    purge time, confirmation by email turned on, a video from a new host) needs the password
    again, like a partner's origins and a purge."""
    if operations.guarded_change(old, new):
        await confirmed(request, who, form)
    service = service_of(request)
    await operations.save_campaign(service.store, who, new)
    await service.campaigns.reload(force=True)


async def campaign_form(request: Request) -> Response:
    auth.require_operator(request)
    return page(request, "admin/campaign_form.html", campaign=None, values={}, error=None)


async def campaign_create(request: Request) -> Response:
    who, form = await guarded_post(request)
    service = service_of(request)
    try:
        data = _campaign_data(form, {"slug": form.get("slug", "").strip()})
        new = campaigns.parse(data)
        if await service.campaigns.get(new.slug) is not None:
            raise CampaignError("slug", "is already used by another campaign")
    except CampaignError as exc:
        return page(request, "admin/campaign_form.html", 422, campaign=None, values=form, error=exc)
    await save_campaign(request, who, form, None, new)
    return RedirectResponse(ADMIN.campaign(new.slug), 303)


async def campaign_show(request: Request) -> Response:
    auth.require_operator(request)
    return await campaign_page(request, await campaign_or_404(request))


async def campaign_update(request: Request) -> Response:
    auth.require_operator(request)
    campaign = await campaign_or_404(request)
    who, form = await guarded_post(request)
    try:
        new = campaigns.parse(_campaign_data(form, campaign.to_dict()))
    except CampaignError as exc:
        return await campaign_page(request, campaign, values=form, error=exc, status=422)
    await save_campaign(request, who, form, campaign, new)
    return RedirectResponse(ADMIN.campaign(campaign.slug) + "?saved=1", 303)


async def campaign_page(
    request: Request,
    campaign: Campaign,
    values: dict[str, str] | None = None,
    error: CampaignError | None = None,
    status: int = 200,
    link: str = "",
    notice: str = "",
    problem: str = "",
) -> Response:
    service = service_of(request)
    until = service.counter.period_start(campaign)  # a count in steps: as readers see it
    stats = await service.store.stats(campaign.slug, hours_ago(24), until)
    if until:
        signatures = await service.counter.public(campaign) - campaign.counter_offset
    else:
        signatures = sum(n for _, n in stats.per_day)
    public = URLs(security.own_origin(request, service.settings.public_url))
    partner_list = await service.store.partners()
    built = _snippets(request, campaign, public, {p.code for p in partner_list})
    return page(
        request, "admin/campaign.html", status, campaign=campaign, values=values or {},
        error=error, stats=stats, signatures=signatures, public=public, partners=partner_list,
        until=until,
        snippet=snippet,
        chart=_chart(stats, campaign.title), hourly=_hourly(stats),
        country_names=dict(country_choices("en")), saved=request.query_params.get("saved"),
        link=link, kinds=exports.KINDS, notice=notice, problem=problem, built=built,
        colour_hint=describe_colour(campaign.theme_colour),
        text_fields=CONTENT_FIELDS,
        domains_kept=bool(service.settings.domain_key),
    )  # fmt: skip


# The iframe-only code: the README's, with a height that fits the form on a 360 px phone, or
# the counter at 300 px, two lines of count, the update note, a goal's bar and its two lines,
# and the campaign's title on one line (tests/browser/test_iframe_only_code.py). A partner
# never changes it, so it must fit whatever the campaign's settings become.
FORM_HEIGHT, COUNTER_HEIGHT = 1050, 200
IFRAME_CODE = (
    '<iframe src="{src}" title="Petition" loading="lazy"\n'
    '        style="display:block;width:100%;max-width:40rem;height:{height}px;border:0;'
    'margin:0 auto"></iframe>'
)


def _snippets(
    request: Request, campaign: Campaign, public: URLs, codes: set[str]
) -> dict[str, str]:
    """The snippet builder's choice (partner, language, what to show) from the query, and
    the codes for it: the snippet, the iframe-only code, the hosted page and a preview."""
    query = request.query_params
    partner = query.get("sn_partner", "") if query.get("sn_partner", "") in codes else ""
    lang = query.get("sn_lang", "")
    lang = lang if lang in LANGUAGES else campaign.language
    mode = query.get("sn_mode", "") if query.get("sn_mode") in ("counter", "click") else ""
    counter = mode == "counter"
    slug, who = campaign.slug, partner or None
    frame = public.counter(slug, lang=lang) if counter else public.embed(slug, who, lang)
    return {
        "partner": partner, "lang": lang, "mode": mode,
        "snippet": snippet(public, slug, lang, who, "counter" if counter else None,
                           "click" if mode == "click" else None),
        "iframe": IFRAME_CODE.format(
            src=escape(frame), height=COUNTER_HEIGHT if counter else FORM_HEIGHT
        ),
        "hosted": public.hosted(slug, lang=lang, partner=who),
        "preview": (ADMIN.counter(slug, lang=lang) if counter else ADMIN.embed(slug, who, lang)),
    }  # fmt: skip


def _hourly(stats: Stats) -> bool:
    """Per hour while every signature is from one day (a day is one bar), else per day."""
    return len(stats.per_day) <= 1 and bool(stats.per_hour)


def _chart(stats: Stats, title: str) -> Markup:
    if _hourly(stats):
        return chart.per_hour_svg(stats.per_hour, f"Signatures per hour (UTC): {title}")
    return chart.per_day_svg(stats.per_day, f"Signatures per day: {title}")
