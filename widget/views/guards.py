"""The guards handlers run first, shared by every view module: the campaign must exist, and a
posted form must be readable."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request

from widget.campaigns import Campaign
from widget.i18n import N_
from widget.service import service_of

MAX_FIELDS = 32
UNREADABLE = N_("The form could not be read.")


async def campaign_or_404(request: Request) -> Campaign:
    campaign = await service_of(request).campaigns.get(request.path_params["slug"])
    if campaign is None:
        raise HTTPException(404)
    return campaign


def parse_form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, UNREADABLE) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)  # the first value of a repeated field counts
    return form
