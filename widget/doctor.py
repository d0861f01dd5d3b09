"""`petition-widget doctor`: a deployment checked for the ways who signed could leak from its
files, its settings and its campaigns, each finding with what to do about it. It reads; it
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from widget import files
from widget.campaigns import ANY_ORIGIN, Campaign
from widget.settings import (
    ENV_PREFIX,
    KEY_MIN_LENGTH,
    Settings,
    database_file,
    is_postgres,
)
from widget.store import open_store


class Finding(NamedTuple):
    problem: str
    fix: str


def check(settings: Settings) -> list[Finding]:
    """Every risk found, most serious first; an empty list when none is."""
    return [
        *_private_key(settings),
        *_short_secret(settings),
        *_modes(settings),
        *_key_places(settings),
        *_public_url(settings),
    ]


async def check_stored(settings: Settings) -> list[Finding]:
    """Each open campaign whose public count is live, and signatures that keep their time to
    the second, once the database exists (the store opens as for any command; a database
    not made yet has no campaign to check)."""
    if not is_postgres(settings.database) and not database_file(settings.database).exists():
        return []
    store = open_store(settings.database, timeout=settings.db_timeout_seconds)
    await store.open()
    try:
        stored = await store.campaigns()
        precise = await store.times_to_the_second()
    finally:
        await store.close()
    return [*_live_counts(stored), *_times(precise)]


def _times(precise: int) -> list[Finding]:
    if not precise:
        return []
    return [Finding(
        f"{precise} signature(s) keep the minute and second they were made in (stored before "
        "signatures kept only the hour): a stolen copy of the database, or an export, tells "
        "whether someone signed at the moment an adversary knows its visitor was there",
        "petition-widget forget-minutes (each keeps only its hour, as new ones do; the "
        "charts and counts do not change)",
    )]  # fmt: skip


def _live_counts(stored: list[tuple[Campaign, int]]) -> list[Finding]:
    return [
        Finding(
            f"campaign {campaign.slug} shows a live public count: a site that knows its "
            f"visitors (by a login), {_framing(campaign.allowed_origins)}, can watch it rise by "
            "one while one of them is there",
            f"petition-widget campaign set {campaign.slug} count_every_hours 1 (or the admin's "
            '"Public count updated"): readers then see the count as it was when each hour '
            "began, and the watcher sees it move by everyone who signed in the hour",
        )
        for campaign, _ in stored
        if campaign.is_open and not campaign.count_every_hours
    ]


def _framing(origins: tuple[str, ...]) -> str:
    if ANY_ORIGIN in origins:
        return "framing it (any site may) or linking to it"
    return "linking to it (or framing it, on a site the campaign names)"


def _made_keys(settings: Settings) -> list[Path]:
    """The key files this install made for itself (SQLite without configured keys)."""
    if is_postgres(settings.database):
        return []
    names = ("secret-key", "operator-public.key", "operator-private.key")
    found = [settings.key_folder / name for name in names]
    found += [files.legacy_key_file(settings.database, name) for name in names]
    return [path for path in found if path.exists()]


def _private_key(settings: Settings) -> Iterator[Finding]:
    for path in _made_keys(settings):
        if path.name.endswith("operator-private.key"):
            yield Finding(
                f"the operator's private key is on this server ({path}): whoever takes the "
                "server (or a backup of this folder) can open every name and email",
                f"move {path} to the operator's own machine (an encrypted disk), then set "
                f"{ENV_PREFIX}PUBLIC_KEY to the public key and restart",
            )


def _short_secret(settings: Settings) -> Iterator[Finding]:
    if settings.secret_key and len(settings.secret_key) < KEY_MIN_LENGTH:
        yield Finding(
            f"{ENV_PREFIX}SECRET_KEY has fewer than {KEY_MIN_LENGTH} characters: it can be "
            "guessed from a stolen copy of the database, and with it any address tested "
            "against the stored hashes",
            'for a new database, set a long random key (python3 -c "import secrets; '
            'print(secrets.token_urlsafe(48))"); a database already written with this key '
            "must keep it (its hashes cannot move), so keep its backups all the more guarded",
        )


def _modes(settings: Settings) -> Iterator[Finding]:
    if is_postgres(settings.database):
        return
    db = database_file(settings.database)
    stored = [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    for path in [*stored, *_made_keys(settings)]:
        if path.exists() and files.readable_by_others(path):
            yield Finding(
                f"{path} can be read by other users of this machine "
                f"(mode {oct(path.stat().st_mode & 0o777)})",
                f"chmod 600 {path} (the service makes new files owner-only, and tightens its "
                "database files at start)",
            )
    folder = settings.key_folder
    if folder.is_dir() and files.readable_by_others(folder):
        yield Finding(
            f"the keys folder {folder} can be opened by other users of this machine",
            f"chmod 700 {folder}",
        )


def _key_places(settings: Settings) -> Iterator[Finding]:
    if is_postgres(settings.database):
        return
    db_folder = database_file(settings.database).resolve().parent
    # The public key is no secret; the secret key and the private key are.
    secret = [p for p in _made_keys(settings) if not p.name.endswith("public.key")]
    loose = [str(p) for p in secret if p.parent.resolve() == db_folder]
    inside = [
        str(p) for p in secret if p.resolve().is_relative_to(db_folder) and str(p) not in loose
    ]
    if loose:
        yield Finding(
            f"{', '.join(loose)} lie loose beside the database (where older installs made them)",
            f"move them into a keys folder outside {db_folder} (set {ENV_PREFIX}KEYS_DIR to it)"
            ", and keep that folder out of the database's backups",
        )
    if inside:
        yield Finding(
            f"{', '.join(inside)} are inside the database's folder {db_folder}: a backup of that "
            "folder takes the keys with the data, and a thief with both can test guessed "
            "addresses against the stored hashes",
            f"set {ENV_PREFIX}KEYS_DIR to a folder outside {db_folder} and move the keys there, "
            f"or give {ENV_PREFIX}SECRET_KEY and {ENV_PREFIX}PUBLIC_KEY from a secrets store; "
            "back the keys up separately from the data",
        )


def _public_url(settings: Settings) -> Iterator[Finding]:
    if not settings.public_url:
        yield Finding(
            f"{ENV_PREFIX}PUBLIC_URL is not set: the Host header of each request decides the "
            "share links and the origin that form posts must come from",
            f"set {ENV_PREFIX}PUBLIC_URL=https://your.petition.host (the address readers use)",
        )


def report(findings: list[Finding]) -> str:
    if not findings:
        return "no problem found\n"
    lines = []
    for n, finding in enumerate(findings, start=1):
        lines += [f"{n}. {finding.problem}", f"   what to do: {finding.fix}"]
    return "\n".join(lines) + "\n"
