"""Commands for the content partners see: campaigns and partners."""

from __future__ import annotations

import argparse
import time
import tomllib
from datetime import UTC, datetime
from typing import Any

import tomli_w

from widget import campaigns, counter, operations, partners
from widget.cli.common import CommandError, actor, keyed_store, opened_store, write_text
from widget.settings import Settings
from widget.urls import URLs

# Campaigns ---------------------------------------------------------------------------------------


async def campaign_load(settings: Settings, args: argparse.Namespace) -> None:
    campaign = campaigns.load_file(args.file)  # validated before the database is touched
    async with opened_store(settings) as store:
        saved = await operations.save_campaign(store, actor(), campaign)
    print_saved(campaign.slug, saved)


def print_saved(slug: str, saved: operations.Saved) -> None:
    """What a save changed; for a guarded change, what it does (the admin would have asked
    for the password again)."""
    if saved.changes == "created":
        print(f"created campaign {slug}")
    else:
        print(f"updated campaign {slug}: {saved.changes}")
    if saved.guarded:
        note = operations.GUARDED_NOTES[saved.guarded]
        print(f"note: {note}. Every operator sees this change on the admin's front page.")


def now() -> float:
    """The time of day, which says what period a stepped count is in (tests set it)."""
    return time.time()


async def campaign_list(settings: Settings, args: argparse.Namespace) -> None:
    # COUNT is what readers see: the offset and every signature received, or, for a count
    # published in steps, what was published as the current period began (taken now if no
    # instance has, as a reader's request would). SIGNATURES and SIGNERS (each address once)
    # are as of now, for whoever runs this on the server: they hold the database and the
    # secret key, which test an address anyway. The admin, which a stolen session reaches,
    # shows neither.
    lines, notes = [], []
    async with opened_store(settings) as store:
        signers = await store.unique_signers()
        for campaign, signatures in await store.campaigns():
            counted = signatures
            if hours := campaign.count_every_hours:
                step = counter.step_of(now(), hours)
                counted = await store.published_count(campaign.slug, step)
                every = "once an hour" if hours == 1 else f"every {hours} hours"
                since = datetime.fromtimestamp(step, UTC).strftime("%Y-%m-%d %H:%M UTC")
                notes.append(f"{campaign.slug}: COUNT is as of {since}, updated {every}")
            lines.append((campaign.slug, campaign.state, campaign.counter_offset + counted,
                          signatures, signers.get(campaign.slug, 0)))  # fmt: skip
    if not lines:
        print("no campaigns")
        return
    width = max(len(line[0]) for line in lines)
    print(f"{'SLUG':<{width}}  {'STATUS':<6}  {'COUNT':>8}  {'SIGNATURES':>10}  SIGNERS")
    for slug, state, count, signatures, unique in lines:
        print(f"{slug:<{width}}  {state:<6}  {count:>8}  {signatures:>10}  {unique}")
    for note in notes:
        print(note)


async def campaign_dump(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        campaign = await operations.campaign(store, args.slug)
    write_text(tomli_w.dumps(campaign.to_dict(), multiline_strings=True), args.output)


async def campaign_set(settings: Settings, args: argparse.Namespace) -> None:
    if args.field == "slug":
        raise CommandError("the slug cannot change: partners' pages use it")
    async with opened_store(settings) as store:
        campaign = await operations.campaign(store, args.slug)
        data = {**campaign.to_dict(), args.field: _toml_value(args.value)}
        if data[args.field] == "" and args.field in campaigns.OPTIONAL_NUMBERS:
            del data[args.field]  # "" takes the goal (or minimum, or purge time) away
        new = campaigns.parse(data)
        saved = await operations.save_campaign(store, actor(), new)
    print_saved(new.slug, saved)


def _toml_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


# Partners ----------------------------------------------------------------------------------------


async def partner_add(settings: Settings, args: argparse.Namespace) -> None:
    """Register a partner, or change what is given of one (the rest is kept)."""
    if args.origin and args.no_origins:
        raise CommandError("give --origin or --no-origins, not both")
    async with opened_store(settings) as store:
        old = await operations.find_partner(store, args.code.strip())
        if old is None and args.name is None:
            raise CommandError(f"no partner {args.code!r} yet: give --name to register it")
        kept = old or partners.Partner(args.code, "")
        partner = partners.make_partner(
            args.code,
            kept.name if args.name is None else args.name,
            kept.contact if args.contact is None else args.contact,
            [] if args.no_origins else args.origin or list(kept.origins),
            kept.public_key if args.public_key is None else args.public_key,
        )
        changes = await operations.save_partner(store, actor(), partner)
    print(f"partner {partner.code}: {changes}")


async def partner_list(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        rows = await store.partners()
    if not rows:
        print("no partners")
    for p in rows:
        print(f"{p.code}\t{p.name}\t{p.contact}\t{' '.join(p.origins)}")


async def partner_link(settings: Settings, args: argparse.Namespace) -> None:
    base = args.base or settings.public_url
    if not base:
        raise CommandError("give --base https://… or set PETITION_WIDGET_PUBLIC_URL")
    async with keyed_store(settings) as (store, settings):
        links = partners.PartnerLinks(settings.secret)
        token = await operations.partner_link(
            store, actor(), links, args.slug, args.code, args.days
        )
    print(URLs(base).partner_export(args.slug, args.code, token))


async def partner_rotate(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        await operations.rotate_partner_key(store, actor(), args.code)
    print(f"every export link of {args.code} is revoked")


async def partner_remove(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        gone = await operations.remove_partner(store, actor(), args.code)
    print(
        f"removed partner {gone.code} ({gone.name}): its export links no longer work, its "
        "origins may no longer frame a campaign that lists its origins, and readers who come "
        "through its code are not asked to share their details with it; signatures keep the code"
    )
