"""A campaign's texts as readers see them, in each language, and reading them (with their
translations) from campaign data, with errors that name the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

LANGUAGES = ("en", "fr", "be", "ru")


class CampaignError(ValueError):
    """A campaign definition is invalid. `field` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Content:
    """A campaign's texts as readers see them, in one language."""

    organisation: str = ""
    title: str = ""
    target: str = ""
    tagline: str = ""
    body: tuple[str, ...] = ()
    call_to_action: str = ""
    demands: tuple[str, ...] = ()
    privacy_notice: str = ""
    thank_you: str = ""
    share_text: str = ""
    video_title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The texts that are set, as a campaign file holds them."""
        data = {name: getattr(self, name) for name in TEXT_FIELDS if getattr(self, name)}
        if self.body:
            data["body"] = "\n\n".join(self.body)
        if self.demands:
            data["demands"] = list(self.demands)
        return data


TEXT_FIELDS = tuple(f.name for f in fields(Content))


_TEXT_LIMITS = {
    "organisation": 200,
    "title": 200,
    "target": 300,
    "tagline": 300,
    "call_to_action": 500,
    "privacy_notice": 1000,
    "thank_you": 1000,
    "share_text": 280,
    "video_title": 200,
}


def parse_text(data: dict[str, Any], name: str, limit: int, where: str = "") -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise CampaignError(where + name, "must be text")
    value = value.strip()
    if len(value) > limit:
        raise CampaignError(
            where + name, f"must be at most {limit} characters (it has {len(value)})"
        )
    return value


def parse_content(data: dict[str, Any], where: str = "") -> Content:
    """The texts of a campaign, or of one of its translations (`where` = "translations.fr.")."""
    texts = {name: parse_text(data, name, limit, where) for name, limit in _TEXT_LIMITS.items()}

    body = data.get("body", "")
    if isinstance(body, str):
        body = [p.strip() for p in re.split(r"\n\s*\n", body)]
    if not isinstance(body, list) or not all(isinstance(p, str) for p in body):
        raise CampaignError(where + "body", "must be text (paragraphs separated by blank lines)")

    demands = data.get("demands", [])
    if not isinstance(demands, list) or not all(isinstance(d, str) and d.strip() for d in demands):
        raise CampaignError(where + "demands", "must be a list of non-empty texts")

    return Content(
        body=tuple(" ".join(p.split()) for p in body if p.strip()),
        demands=tuple(d.strip() for d in demands),
        **texts,
    )


def parse_translations(data: dict[str, Any], language: str) -> dict[str, Content]:
    tables = data.get("translations", {})
    if not isinstance(tables, dict):
        raise CampaignError("translations", "must be tables like [translations.fr]")
    translations = {}
    for code, texts in tables.items():
        where = f"translations.{code}"
        if code not in LANGUAGES:
            raise CampaignError(where, f"is not a language; use one of {', '.join(LANGUAGES)}")
        if code == language:
            raise CampaignError(where, "is the campaign's own language: use the main fields")
        if not isinstance(texts, dict):
            raise CampaignError(where, "must be a table of texts")
        unknown = sorted(set(texts) - set(TEXT_FIELDS))
        if unknown:
            raise CampaignError(
                f"{where}.{unknown[0]}", f"is not a text; translate {', '.join(TEXT_FIELDS)}"
            )
        translations[code] = parse_content(texts, where + ".")
    return translations
