"""Share links for the thank-you state: plain links to each network's own share page, built
here so that no network's script ever runs on our pages and nothing is fetched from one
until the reader clicks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode

from widget.i18n import N_


@dataclass(frozen=True)
class ShareLink:
    network: str  # a stable name for styling and tests: telegram, viber, … email
    label: str  # the network's name; "Email" is translated by the template
    url: str

    @property
    def opens_a_tab(self) -> bool:
        """Web share pages open in a new tab; mailto: and viber: hand over to an app, and a
        new tab would stay behind empty."""
        return self.url.startswith("https://")


def _query(**params: str) -> str:
    # %20 rather than +: mail and messaging apps show a + literally.
    return urlencode(params, quote_via=quote)


@lru_cache(maxsize=256)
def links(url: str, text: str, subject: str) -> tuple[ShareLink, ...]:
    """Links that share `url` (absolute) with `text`; `subject` heads an email."""
    message = f"{text} {url}"
    return (
        ShareLink("telegram", "Telegram", "https://t.me/share/url?" + _query(url=url, text=text)),
        ShareLink("viber", "Viber", "viber://forward?" + _query(text=message)),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + _query(text=message)),
        ShareLink(
            "facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + _query(u=url)
        ),
        ShareLink("x", "X", "https://twitter.com/intent/tweet?" + _query(text=text, url=url)),
        ShareLink(
            "email", N_("Email"), "mailto:?" + _query(subject=subject, body=f"{text}\n\n{url}")
        ),
    )
