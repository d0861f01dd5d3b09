"""Operator actions, each written once. The admin (views/admin.py) and the CLI (cli.py) are thin
adapters over these: they parse their input, call one function, and show the result. Each
function does the work and writes its audit entry in the same transaction as the change, and
no audit entry holds signer data. Every refusal is an OperationError (or the validation error
of the domain module it comes from) whose message says why."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from widget import operators, review, security, signing
from widget.campaigns import Campaign
from widget.closing import this_hour
from widget.partners import Partner, PartnerLinks
from widget.sealing import Sealer
from widget.store import Audit, Store, StoreError

LINK_DAYS = range(1, 91)


class OperationError(ValueError):
    """An action cannot be done as asked; the message says why."""


async def find_campaign(store: Store, slug: str) -> Campaign | None:
    return next((c for c, _ in await store.campaigns() if c.slug == slug), None)


async def find_partner(store: Store, code: str) -> Partner | None:
    return partner_in(await store.partners(), code)


def partner_in(rows: list[Partner], code: str) -> Partner | None:
    """The partner of that code among partners already read, if any."""
    return next((p for p in rows if p.code == code), None)


async def campaign(store: Store, slug: str) -> Campaign:
    found = await find_campaign(store, slug)
    if found is None:
        raise OperationError(f"no campaign {slug!r}")
    return found


async def partner(store: Store, code: str) -> Partner:
    found = await find_partner(store, code)
    if found is None:
        raise OperationError(f"no partner {code!r}")
    return found


# Campaigns and partners ---------------------------------------------------------------------


# Settings whose values the audit log records; texts are named, not quoted.
AUDITED_AS_VALUES = (
    "status", "counter_offset", "counter_minimum", "goal", "language", "allowed_origins",
    "hold_for_review", "closes_at", "purge_after_days", "confirm_email", "video_url",
    "count_every_hours",
)  # fmt: skip


def describe_changes(old: Campaign | None, new: Campaign) -> str:
    """What changed, for the audit log: values for settings, names for texts."""
    if old is None:
        return "created"
    before, after = old.to_dict(), new.to_dict()
    parts = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        if name in AUDITED_AS_VALUES:
            parts.append(f"{name}: {before.get(name)!r} -> {after.get(name)!r}")
        else:
            parts.append(f"{name} (text)")
    return "; ".join(parts) or "no change"


def guarded_change(old: Campaign | None, new: Campaign) -> str | None:
    """The audit name of a campaign save that, like the act it stands for, needs a fresh
    password and is shown to every operator; None for any other save. Five do, each a way for
    an infiltrator to reach signers through an ordinary edit:
    - a change of the host pages the campaign names (a page there hears that its visitor
      signed; `*` lets any page frame the widget but trusts none);
    - a new time for its purge (set sooner, it is a purge);
    - confirmation by email turned on: from then on every signer's address gets an email
      from the campaign, evidence of signing in an inbox that its provider, or whoever takes
      the phone, can read;
    - a video from a new host: readers who press play tell that host their address;
    - a public count published more often than it was (or live): a site that knows its
      visitors sees it move closer to the moment one of them signed."""

    def trusted(campaign: Campaign | None) -> set[str]:
        return set(security.trusted_hosts(campaign.allowed_origins, ())) if campaign else set()

    if trusted(old) != trusted(new):
        return "campaign.origins"
    if new.purge_at and (old is None or old.purge_at != new.purge_at):
        return "campaign.schedule"
    if new.confirm_email and not (old and old.confirm_email):
        return "campaign.confirm-email"
    if new.video_origin and new.video_origin != (old.video_origin if old else ""):
        return "campaign.video"
    if old and old.count_every_hours and new.count_every_hours < old.count_every_hours:
        return "campaign.count"
    return None


# What each guarded change does, said to whoever makes it from the command line (the admin
# asks for the password again); every operator then sees it on the admin's front page.
GUARDED_NOTES = {
    "campaign.origins": "the sites that may show it changed: a page there hears that its "
    "visitor signed",
    "campaign.schedule": "its signers' personal data will be purged at the new time",
    "campaign.confirm-email": "every new signer gets an email from it: evidence of signing in "
    "an inbox that its provider can read",
    "campaign.video": "readers who press play on its video tell the video's host their address",
    "campaign.count": "its public count is published more often than before (or live): a site "
    "that knows its visitors sees it move closer to the moment one of them signed",
}


class Saved(NamedTuple):
    changes: str  # "created", or what changed (`describe_changes`)
    guarded: str | None  # the act it stands for (`guarded_change`), if any


async def save_campaign(store: Store, actor: str, new: Campaign) -> Saved:
    """Create or update a campaign. The audit says what changed, under its own name when it
    needs a fresh password (`guarded_change`)."""
    old = await find_campaign(store, new.slug)
    saved = Saved(describe_changes(old, new), guarded_change(old, new))
    await store.save_campaign(new, Audit(actor, saved.guarded or "campaign.save", new.slug,
                                         saved.changes))  # fmt: skip
    return saved


NO_CHANGE = "no change"


def describe_partner_changes(old: Partner | None, new: Partner) -> str:
    """What changed, for the audit log and the operator: the origins that may now (or no
    longer) frame the petition and whether the key opted-in signers are sealed to changed,
    by value; the contact only as changed (it may be someone's address)."""
    if old is None:
        return "created"
    parts = []
    if old.name != new.name:
        parts.append(f"name: {old.name!r} -> {new.name!r}")
    if old.contact != new.contact:
        parts.append("contact changed")
    added = [o for o in new.origins if o not in old.origins]
    removed = [o for o in old.origins if o not in new.origins]
    if added or removed:
        parts.append(
            "origins: " + ", ".join([*("+" + o for o in added), *("-" + o for o in removed)])
        )
    if old.public_key != new.public_key:
        change = "removed" if not new.public_key else "replaced" if old.public_key else "added"
        parts.append("own key " + change)
    return "; ".join(parts) or NO_CHANGE


async def save_partner(store: Store, actor: str, new: Partner) -> str:
    """Register or update a partner (its export links keep working); what changed."""
    existing = await find_partner(store, new.code)
    if existing is not None:
        new = replace(new, link_key=existing.link_key)
    # Its export link gives only the rows sealed since its key was set (to the hour).
    if existing is not None and existing.public_key == new.public_key:
        new = replace(new, key_since=existing.key_since)
    else:
        new = replace(new, key_since=this_hour() if new.public_key else "")
    changes = describe_partner_changes(existing, new)
    if changes == NO_CHANGE:
        return changes
    await store.save_partner(new, Audit(actor, "partner.save", None, f"{new.code}: {changes}"))
    return changes


async def remove_partner(store: Store, actor: str, code: str) -> Partner:
    """End a partnership: the partner's origins may no longer frame a campaign that lists
    its origins, its export links stop working, and readers coming through its code are no
    longer asked to share their details with it. Signatures keep the code."""
    found = await partner(store, code)
    await store.remove_partner(code, Audit(actor, "partner.remove", None, code))
    return found


async def rotate_partner_key(store: Store, actor: str, code: str) -> Partner:
    """Revoke every export link of a partner."""
    rotated = (await partner(store, code)).with_new_link_key()
    await store.save_partner(rotated, Audit(actor, "partner.rotate_key", None, code))
    return rotated


async def partner_link(
    store: Store, actor: str, links: PartnerLinks, slug: str, code: str, days: int
) -> str:
    """A signed token for a partner's own export link, lasting `days`."""
    if days not in LINK_DAYS:
        raise OperationError("a link lasts from 1 to 90 days")
    await campaign(store, slug)
    found = await partner(store, code)
    token = links.issue(slug, found, days)
    await store.audit(actor, "partner.link", slug, f"{code}, {days} days")
    return token


async def record_export(
    store: Store, actor: str, slug: str, kind: str, partner_code: str | None = None
) -> None:
    """An export changes nothing stored; who took which file is recorded all the same."""
    detail = kind + (f" partner={partner_code}" if partner_code else "")
    await store.audit(actor, "export", slug, detail)


# Signers and abuse --------------------------------------------------------------------------


async def delete_signer(
    store: Store, actor: str, secret: str, email: str, slug: str | None = None
) -> dict[str, int]:
    """Every signature of an address (in one campaign, or all); each count drops by as many."""
    try:
        normalised = signing.normalise_email(email)
    except ValueError as exc:
        raise OperationError(str(exc)) from None
    if slug is not None:
        await campaign(store, slug)
    scope = f" in {slug}" if slug else ""
    audit = Audit(actor, "signer.delete", slug, "{n} signature(s) deleted" + scope)
    return await store.delete_signer(signing.email_key(secret, normalised), slug, audit)


async def release(store: Store, actor: str, slug: str, until: str | None = None) -> int:
    """Count the signatures held for review: in the admin, for a campaign counted in steps,
    those made before its period began (`until`), which are all its page shows."""
    await campaign(store, slug)
    audit = Audit(actor, "release", slug, "{n} signature(s)")
    return await store.release_held(slug, audit, until)


async def invalidate(
    store: Store,
    actor: str,
    slug: str,
    which: review.Invalidation,
    domain_secret: str | None,
) -> int:
    """Uncount a flood, by partner, time window or email domain."""
    found = await campaign(store, slug)
    audit = Audit(actor, "invalidate", slug, "{n} by " + which.describe())
    return await review.invalidate(store, found, domain_secret, which, audit)


async def count_invalidatable(
    store: Store, actor: str, slug: str, which: review.Invalidation, domain_secret: str | None
) -> tuple[int, int]:
    """How many signatures `invalidate` would mark, and how many of them count now: what the
    admin asks to confirm. Such a count can tell what the rest of the admin does not
    (`sensitive_count`), so it is then recorded like an act: what was asked, not the answer,
    which every operator would then read."""
    found = await campaign(store, slug)
    n = await review.count_invalidatable(store, found, domain_secret, which)
    if sensitive_count(found, which):
        await store.audit(actor, "invalidate.count", slug, which.describe())
    return n


def sensitive_count(found: Campaign, which: review.Invalidation) -> bool:
    """Whether counting what an invalidation would touch tells more than the admin's figures:
    by email domain, whether anyone at that domain signed; on a campaign counted in steps, how
    many signed since its period began, which the public count and the admin keep back."""
    return bool(which.email_domain or found.count_every_hours)


async def count_purgeable(store: Store, slug: str, older_than_days: int) -> int:
    """How many signatures `purge` would empty: what the admin asks to confirm."""
    return await review.count_purgeable(store, await campaign(store, slug), older_than_days)


async def purge(store: Store, actor: str, slug: str, older_than_days: int) -> int:
    """Remove a closed campaign's personal data older than N days; the counts stay."""
    found = await campaign(store, slug)
    detail = f"{{n}} signature(s) older than {older_than_days} days"
    return await review.purge(store, found, older_than_days, Audit(actor, "purge", slug, detail))


async def forget_minutes(store: Store, actor: str) -> int:
    """Keep only the hour of every signature's time, as new ones keep."""
    return await store.forget_minutes(Audit(actor, "forget-minutes", None, "{n} signature(s)"))


async def forget_domains(store: Store, actor: str) -> int:
    """Clear every stored hash of an email domain."""
    return await store.forget_domains(Audit(actor, "forget-domains", None, "{n} row(s)"))


async def backup(store: Store, actor: str, target: str) -> int:
    """Copy the whole database into the new, empty file `target` and record it; how many
    signatures the copy holds."""
    audit = Audit(actor, "backup", None, "{n} signature(s) copied to " + target)
    try:
        return await store.backup(target, audit)
    except StoreError as exc:
        raise OperationError(str(exc)) from None


async def seal(store: Store, actor: str, sealer: Sealer) -> int:
    """Seal the rows of a database from before sealing. Long, in chunks: the audit follows."""
    sealed = await store.seal_legacy_rows(sealer)
    await store.audit(actor, "seal", None, f"{sealed} row(s) sealed")
    return sealed


# Operators ----------------------------------------------------------------------------------


async def add_operator(store: Store, actor: str, email: str, password: str) -> bool:
    """Add an operator, or set their password; True if added."""
    address = operators.normalise_email(email)
    password_hash = operators.hash_password(password)
    return await store.save_operator(
        address, password_hash, Audit(actor, "operator", None, address)
    )


async def reset_second_factor(store: Store, actor: str, email: str) -> int:
    """Remove an operator's passkeys and recovery codes and end their sessions, for one who
    lost every key: they log in with their password and enrol again. The passkeys removed."""
    address = operators.normalise_email(email)
    if address not in {e for e, _ in await store.operators()}:
        raise OperationError(f"no operator {email!r}")
    audit = Audit(actor, "operator.reset-2fa", None, address + ": {n} passkey(s) removed")
    return await store.reset_second_factor(address, audit)


async def remove_operator(store: Store, actor: str, email: str) -> None:
    address = operators.normalise_email(email)
    if not await store.remove_operator(address, Audit(actor, "operator.remove", None, address)):
        raise OperationError(f"no operator {email!r}")
