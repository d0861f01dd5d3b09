"""The petition-widget command. Every operator action in the admin has a command here too,
so operators can automate, and recover when the web admin is down."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import fields
from typing import IO, Any

import tomli_w

from widget import (
    campaigns,
    doctor,
    exports,
    files,
    operations,
    operators,
    partners,
    review,
    sealing,
)
from widget.settings import ENV_PREFIX, Settings, SettingsError
from widget.store import Store, open_store
from widget.urls import URLs


def _database_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--database",
        help=f"a SQLite file or a postgresql:// URL (env {ENV_PREFIX}DATABASE; "
        "default ./petition-widget.db)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petition-widget", description="An embeddable petition widget service."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _database_flag(commands.add_parser("serve", help="run the web service"))
    serve.add_argument("--host", help=f"address to listen on (env {ENV_PREFIX}HOST)")
    serve.add_argument("--port", type=int, help=f"port to listen on (env {ENV_PREFIX}PORT)")

    group = commands.add_parser("campaign", help="manage campaigns")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = _database_flag(actions.add_parser("load", help="create or update from a TOML file"))
    load.add_argument("file", help="the campaign file (TOML)")
    _database_flag(actions.add_parser("list", help="list campaigns: slug, status, count"))
    dump = _database_flag(actions.add_parser("dump", help="write a campaign back out as TOML"))
    dump.add_argument("slug")
    dump.add_argument("-o", "--output", help="file to write (default: standard output)")
    set_ = _database_flag(actions.add_parser("set", help="change one field of a campaign"))
    set_.add_argument("slug")
    set_.add_argument("field")
    set_.add_argument("value", help='a TOML value (785, true, "text", ["a", "b"]) or plain text')

    group = commands.add_parser("partner", help="manage partners")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = _database_flag(actions.add_parser("add", help="register or update a partner"))
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--contact", default="")
    add.add_argument("--origin", action="append", default=[], help="may embed from (repeat)")
    add.add_argument("--public-key", default="", help="the partner's own public key (base64)")
    _database_flag(actions.add_parser("list", help="list partners"))
    link = _database_flag(actions.add_parser("link", help="make a partner's export link"))
    link.add_argument("slug")
    link.add_argument("code")
    link.add_argument("--days", type=int, default=partners.LINK_DAYS_DEFAULT)
    link.add_argument("--base", help="the service's public URL (default: PUBLIC_URL setting)")
    rotate = _database_flag(actions.add_parser("rotate", help="revoke every export link"))
    rotate.add_argument("code")

    purge = _database_flag(
        commands.add_parser("purge", help="remove a closed campaign's personal data")
    )
    purge.set_defaults(action=None)
    purge.add_argument("slug")
    purge.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    forget = _database_flag(
        commands.add_parser("forget-domains", help="clear the stored hashes of email domains")
    )
    forget.set_defaults(action=None)

    release = _database_flag(
        commands.add_parser("release", help="count signatures held for review")
    )
    release.set_defaults(action=None)
    release.add_argument("slug")

    invalidate = _database_flag(
        commands.add_parser("invalidate", help="uncount a flood: by partner, time or domain")
    )
    invalidate.set_defaults(action=None)
    invalidate.add_argument("slug")
    invalidate.add_argument("--partner")
    invalidate.add_argument("--since", help="from this time (ISO 8601, UTC unless given)")
    invalidate.add_argument("--until", help="up to this time")
    invalidate.add_argument("--email-domain")

    keys = commands.add_parser("keys", help="the key pair that seals personal data")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="write a new key pair (run it on your machine)")
    generate.add_argument("--out", default=".", help="folder for the two key files")
    generate.add_argument("--name", default="operator", help="file name prefix")

    seal = _database_flag(commands.add_parser("seal", help="seal rows stored before sealing"))
    seal.set_defaults(action=None)

    decrypt = commands.add_parser("decrypt", help="open a sealed export with a private key")
    decrypt.set_defaults(action=None)
    decrypt.add_argument("file", help="a sealed CSV export from the admin or a partner link")
    decrypt.add_argument("--private-key", required=True, help="the private key file")
    decrypt.add_argument("-o", "--output", help="file to write (default: standard output)")

    export = _database_flag(commands.add_parser("export", help="write a CSV export"))
    export.add_argument("--private-key", help="the operator's private key file (names, emails)")
    export.add_argument("slug")
    export.add_argument("--kind", choices=exports.KINDS, required=True)
    export.add_argument("--partner", help="the partner, for --kind partner")
    export.add_argument("--first-names", action="store_true", help="delivery: add first names")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")

    group = commands.add_parser("signer", help="act on a signer's request about their data")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    delete = _database_flag(actions.add_parser("delete", help="delete a signer's signatures"))
    delete.add_argument("--email", required=True)
    delete.add_argument("--campaign", help="only in this campaign")

    group = commands.add_parser("operator", help="manage admin accounts")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = _database_flag(actions.add_parser("add", help="add an operator or set a password"))
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true", help="read the password")
    _database_flag(actions.add_parser("list", help="list operators"))
    remove = _database_flag(actions.add_parser("remove", help="remove an operator"))
    remove.add_argument("email")

    commands.add_parser("settings", help="list every setting and its variable")
    _database_flag(
        commands.add_parser("doctor", help="check this deployment for ways who signed could leak")
    )
    return parser


class CommandError(Exception):
    """A command cannot do what was asked; the message says why."""


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load(
            **{name: getattr(args, name, None) for name in ("host", "port", "database")}
        )
        if args.command == "serve":
            serve(settings)
        elif args.command == "settings":
            print_settings()
        elif args.command == "keys":
            generate_keys(args)
        elif args.command == "decrypt":
            decrypt(args)
        elif args.command == "doctor":
            findings = doctor.check(settings)
            print(doctor.report(findings), end="")
            if findings:
                sys.exit(1)
        else:
            handler = HANDLERS[(args.command, getattr(args, "action", None))]
            asyncio.run(handler(settings, args))
    except (
        SettingsError,
        campaigns.CampaignError,
        operators.OperatorError,
        sealing.SealingKeyError,
        review.ReviewError,
        operations.OperationError,
        CommandError,
    ) as exc:
        sys.exit(f"petition-widget: {exc}")


def serve(settings: Settings) -> None:
    import uvicorn

    from widget.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=settings.access_log,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        server_header=False,
    )


@contextlib.asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    store = open_store(settings.database, pool_size=settings.db_pool_size)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


# Campaigns ---------------------------------------------------------------------------------------


async def campaign_load(settings: Settings, args: argparse.Namespace) -> None:
    campaign = campaigns.load_file(args.file)  # validated before the database is touched
    async with _store(settings) as store:
        created = await operations.save_campaign(store, _actor(), campaign)
    print(f"{'created' if created else 'updated'} campaign {campaign.slug}")


async def campaign_list(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        rows = await store.campaigns()
        signers = await store.unique_signers()
    if not rows:
        print("no campaigns")
        return
    # COUNT is public (offset + every signature received); SIGNERS, each address once, is not.
    width = max(len(c.slug) for c, _ in rows)
    print(f"{'SLUG':<{width}}  {'STATUS':<6}  {'COUNT':>8}  {'SIGNATURES':>10}  SIGNERS")
    for campaign, signatures in rows:
        count = campaign.counter_offset + signatures
        print(
            f"{campaign.slug:<{width}}  {campaign.status:<6}  {count:>8}  {signatures:>10}  "
            f"{signers.get(campaign.slug, 0)}"
        )


async def campaign_dump(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        campaign = await operations.campaign(store, args.slug)
    _write_text(tomli_w.dumps(campaign.to_dict(), multiline_strings=True), args.output)


async def campaign_set(settings: Settings, args: argparse.Namespace) -> None:
    if args.field == "slug":
        raise CommandError("the slug cannot change: partners' pages use it")
    async with _store(settings) as store:
        campaign = await operations.campaign(store, args.slug)
        new = campaigns.parse({**campaign.to_dict(), args.field: _toml_value(args.value)})
        await operations.save_campaign(store, _actor(), new)
    print(f"updated campaign {new.slug}: {campaigns.describe_changes(campaign, new)}")


def _toml_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


# Partners ----------------------------------------------------------------------------------------


async def partner_add(settings: Settings, args: argparse.Namespace) -> None:
    partner = partners.make_partner(
        args.code, args.name, args.contact, args.origin, args.public_key
    )
    async with _store(settings) as store:
        created = await operations.save_partner(store, _actor(), partner)
    print(f"{'created' if created else 'updated'} partner {partner.code}")


async def partner_list(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        rows = await store.partners()
    if not rows:
        print("no partners")
    for p in rows:
        print(f"{p.code}\t{p.name}\t{p.contact}\t{' '.join(p.origins)}")


async def partner_link(settings: Settings, args: argparse.Namespace) -> None:
    base = args.base or settings.public_url
    if not base:
        raise CommandError("give --base https://… or set PETITION_WIDGET_PUBLIC_URL")
    settings = settings.with_secret()
    links = partners.PartnerLinks(settings.secret)
    async with _store(settings) as store:
        token = await operations.partner_link(
            store, _actor(), links, args.slug, args.code, args.days
        )
    print(URLs(base).partner_export(args.slug, args.code, token))


async def partner_rotate(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        await operations.rotate_partner_key(store, _actor(), args.code)
    print(f"every export link of {args.code} is revoked")


# Exports and signers -----------------------------------------------------------------------------


async def export(settings: Settings, args: argparse.Namespace) -> None:
    needs_key = args.kind != exports.DELIVERY or args.first_names
    if needs_key and not args.private_key:
        raise CommandError(
            "names and emails are sealed: give --private-key FILE (the operator's private key) "
            "to open them; the delivery export without --first-names needs no key"
        )
    opener = sealing.Opener(sealing.read_private_key(args.private_key)) if needs_key else None
    async with _store(settings) as store:
        campaign = await operations.campaign(store, args.slug)
        if args.kind == exports.PARTNER:
            if not args.partner:
                raise CommandError("--kind partner needs --partner CODE")
            await operations.partner(store, args.partner)
            assert opener is not None  # needs_key, checked above
            body = exports.partner_csv(store, campaign, args.partner, opener)
        elif args.kind == exports.DELIVERY:
            body = exports.delivery_csv(store, campaign, opener)
        else:
            assert opener is not None  # needs_key, checked above
            body = exports.operator_csv(store, campaign, opener)
        with _output(args.output) as out:
            async for chunk in body:
                out.write(chunk)
        await operations.record_export(store, _actor(), campaign.slug, args.kind, args.partner)


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    if not path:
        yield sys.stdout.buffer
        return
    try:
        handle = files.open_private(path)  # exports hold signers' data: owner-only
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle
    print(f"wrote {path}", file=sys.stderr)


def decrypt(args: argparse.Namespace) -> None:
    opener = sealing.Opener(sealing.read_private_key(args.private_key))
    try:
        source = open(args.file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    with source, _output(args.output) as out:
        for text in exports.decrypt_csv(source, opener):
            out.write(text.encode())


def generate_keys(args: argparse.Namespace) -> None:
    from pathlib import Path

    private, public = sealing.generate_keypair()
    folder = Path(args.out)
    private_path = folder / f"{args.name}-private.key"
    public_path = folder / f"{args.name}-public.key"
    try:
        sealing.write_key(private_path, private)
        sealing.write_key(public_path, public)
    except FileExistsError as exc:
        raise CommandError(f"{exc.filename} exists already; nothing was overwritten") from None
    print(f"private key: {private_path} (keep it off the server; back it up)")
    print(f"public key:  {public_path}")
    print(f"on the server: {ENV_PREFIX}PUBLIC_KEY={public}")


async def seal_rows(settings: Settings, args: argparse.Namespace) -> None:
    key = sealing.operator_public_key(settings.public_key, settings)
    async with _store(settings) as store:
        sealed = await operations.seal(store, _actor(), sealing.Sealer(key))
    print(f"sealed {sealed} row(s); no plaintext name or email is left in the database")


async def purge(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        purged = await operations.purge(store, _actor(), args.slug, args.older_than)
    print(f"removed the personal data of {purged} signature(s); the counts are kept")


async def release(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        released = await operations.release(store, _actor(), args.slug)
    print(f"released {released} signature(s) held for review")


async def forget_domains(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        cleared = await operations.forget_domains(store, _actor())
    print(f"cleared the email domain's hash of {cleared} signature(s)")
    if settings.domain_key:
        print(f"{ENV_PREFIX}DOMAIN_KEY is still set: new signatures keep theirs until it is unset")


async def invalidate(settings: Settings, args: argparse.Namespace) -> None:
    which = review.parse_invalidation(args.partner, args.since, args.until, args.email_domain)
    settings = settings.with_secret()
    async with _store(settings) as store:
        n = await operations.invalidate(store, _actor(), args.slug, which, settings.domain_key)
    print(f"invalidated {n} signature(s)")


async def signer_delete(settings: Settings, args: argparse.Namespace) -> None:
    settings = settings.with_secret()
    async with _store(settings) as store:
        removed = await operations.delete_signer(
            store, _actor(), settings.secret, args.email, args.campaign
        )
    if not removed:
        print("no signature with that address")
    for slug, n in removed.items():
        print(f"deleted {n} signature(s) in {slug}")


# Operators ---------------------------------------------------------------------------------------


async def operator_add(settings: Settings, args: argparse.Namespace) -> None:
    email = operators.normalise_email(args.email)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the passwords do not match")
    async with _store(settings) as store:
        created = await operations.add_operator(store, _actor(), email, password)
    print(f"{'added' if created else 'changed the password of'} operator {email}")


async def operator_list(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        rows = await store.operators()
    if not rows:
        print("no operators")
    for email, created in rows:
        print(f"{email}\t{created}")


async def operator_remove(settings: Settings, args: argparse.Namespace) -> None:
    async with _store(settings) as store:
        await operations.remove_operator(store, _actor(), args.email)
    print(f"removed operator {args.email}")


def print_settings() -> None:
    for setting in fields(Settings):
        variable = ENV_PREFIX + setting.name.upper()
        print(f"{variable}\n    {setting.metadata['help']} (default: {setting.default!r})")


def _write_text(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


HANDLERS = {
    ("campaign", "load"): campaign_load,
    ("campaign", "list"): campaign_list,
    ("campaign", "dump"): campaign_dump,
    ("campaign", "set"): campaign_set,
    ("partner", "add"): partner_add,
    ("partner", "list"): partner_list,
    ("partner", "link"): partner_link,
    ("partner", "rotate"): partner_rotate,
    ("export", None): export,
    ("seal", None): seal_rows,
    ("purge", None): purge,
    ("release", None): release,
    ("invalidate", None): invalidate,
    ("forget-domains", None): forget_domains,
    ("signer", "delete"): signer_delete,
    ("operator", "add"): operator_add,
    ("operator", "list"): operator_list,
    ("operator", "remove"): operator_remove,
}
