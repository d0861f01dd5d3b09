"""Commands for signers' data and the people who handle it: exports, keys, sealing, purges,
holds and invalidation, deleting a signer, backups, and operators."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from widget import exports, files, operations, operators, review, sealing
from widget.cli.common import CommandError, actor, keyed_store, opened_store, output
from widget.settings import ENV_PREFIX, Settings, is_postgres

# Exports and signers -----------------------------------------------------------------------------


async def export(settings: Settings, args: argparse.Namespace) -> None:
    needs_key = args.kind != exports.DELIVERY or args.first_names
    if needs_key and not args.private_key:
        raise CommandError(
            "names and emails are sealed: give --private-key FILE (the operator's private key) "
            "to open them; the delivery export without --first-names needs no key"
        )
    opener = opener_of(args.private_key) if needs_key else None
    async with opened_store(settings) as store:
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
        with output(args.output) as out:
            async for chunk in body:
                out.write(chunk)
        await operations.record_export(store, actor(), campaign.slug, args.kind, args.partner)


def opener_of(paths: list[str]) -> sealing.Opener:
    """An opener with every key given: rows sealed before a new public key was set open only
    with the private key of that time."""
    keys = [sealing.read_private_key(path) for path in paths]
    return sealing.Opener(*keys)


def decrypt(args: argparse.Namespace) -> None:
    opener = opener_of(args.private_key)
    try:
        source = open(args.file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    with source, output(args.output) as out:
        for text in exports.decrypt_csv(source, opener):
            out.write(text.encode())


def generate_keys(args: argparse.Namespace) -> None:
    private, public = sealing.generate_keypair()
    folder = Path(args.out)
    private_path = folder / f"{args.name}-private.key"
    public_path = folder / f"{args.name}-public.key"
    _write_new_key(private_path, private)
    try:
        _write_new_key(public_path, public)
    except CommandError:
        private_path.unlink()  # a private key without its public key is of no use
        raise
    print(f"private key: {private_path} (keep it off the server; back it up)")
    print(f"public key:  {public_path}")
    print(f"on the server: {ENV_PREFIX}PUBLIC_KEY={public}")


def _write_new_key(path: Path, key: str) -> None:
    try:
        sealing.write_key(path, key)
    except FileExistsError as exc:
        if exc.filename != str(path):  # a file where the folder should be
            raise CommandError(f"cannot write {path}: {exc.filename} is not a folder") from None
        raise CommandError(f"{path} exists already; nothing was overwritten") from None
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


async def seal_rows(settings: Settings, args: argparse.Namespace) -> None:
    key = sealing.operator_public_key(settings.public_key, settings)
    async with opened_store(settings) as store:
        sealed = await operations.seal(store, actor(), sealing.Sealer(key))
    print(f"sealed {sealed} row(s); no plaintext name or email is left in the database")


async def purge(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        purged = await operations.purge(store, actor(), args.slug, args.older_than)
    print(f"removed the personal data of {purged} signature(s); the counts are kept")


async def release(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        released = await operations.release(store, actor(), args.slug)
    print(f"released {released} signature(s) held for review")


async def forget_domains(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        cleared = await operations.forget_domains(store, actor())
    print(f"cleared the email domain's hash of {cleared} signature(s)")
    if settings.domain_key:
        print(f"{ENV_PREFIX}DOMAIN_KEY is still set: new signatures keep theirs until it is unset")


async def forget_minutes(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        cut = await operations.forget_minutes(store, actor())
    if cut:
        print(f"{cut} signature(s) now keep only the hour they were made in")
    else:
        print("every signature already keeps only the hour it was made in")


async def invalidate(settings: Settings, args: argparse.Namespace) -> None:
    which = review.parse_invalidation(args.partner, args.since, args.until, args.email_domain)
    async with keyed_store(settings) as (store, settings):
        n = await operations.invalidate(store, actor(), args.slug, which, settings.domain_key)
    print(f"invalidated {n} signature(s)")


async def signer_delete(settings: Settings, args: argparse.Namespace) -> None:
    async with keyed_store(settings) as (store, settings):
        removed = await operations.delete_signer(
            store, actor(), settings.secret, args.email, args.campaign
        )
    if not removed:
        print("no signature with that address")
    for slug, n in removed.items():
        print(f"deleted {n} signature(s) in {slug}")


async def backup(settings: Settings, args: argparse.Namespace) -> None:
    if is_postgres(settings.database):
        raise CommandError(
            "a PostgreSQL database is backed up with its own tools: pg_dump --format=custom "
            "--file=FILE 'postgresql://…'. The dump holds what the database does (sealed "
            "personal data, keyed hashes) and no key"
        )
    target = Path(args.file).absolute()
    keys = settings.key_folder.absolute()
    if target.is_relative_to(keys):
        raise CommandError(
            f"{target} is inside the keys folder {keys}: a copy of the database must never "
            "travel with the keys that open it. Write it somewhere else"
        )
    try:
        files.create_exclusive(target, "")  # owner-only from the start
    except FileExistsError:
        raise CommandError(
            f"{target} exists already: a backup never replaces a file (name each one, "
            "e.g. petition-widget-$(date +%F).db)"
        ) from None
    except OSError as exc:
        raise CommandError(f"cannot write {target}: {exc.strerror}") from None
    try:
        async with opened_store(settings) as store:
            n = await operations.backup(store, actor(), str(target))
    except BaseException:
        target.unlink(missing_ok=True)  # no half-made copy under the name given
        raise
    print(
        f"wrote {target}: {n} signature(s), its integrity checked. It holds no key: back up "
        f"the keys folder {keys} too, kept apart from it (the service started on the copy "
        "needs its secret key; whoever holds both can test addresses against the copy)"
    )


# Operators ---------------------------------------------------------------------------------------


async def operator_add(settings: Settings, args: argparse.Namespace) -> None:
    email = operators.normalise_email(args.email)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the passwords do not match")
    async with opened_store(settings) as store:
        created = await operations.add_operator(store, actor(), email, password)
    print(f"{'added' if created else 'changed the password of'} operator {email}")


async def operator_list(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        rows = await store.operators()
    if not rows:
        print("no operators")
    for email, created in rows:
        print(f"{email}\t{created}")


async def operator_remove(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        await operations.remove_operator(store, actor(), args.email)
    print(f"removed operator {args.email}")


async def operator_reset_second_factor(settings: Settings, args: argparse.Namespace) -> None:
    async with opened_store(settings) as store:
        removed = await operations.reset_second_factor(store, actor(), args.email)
    print(
        f"removed {removed} passkey(s) and every recovery code of {args.email} and ended their "
        "sessions: they log in with their password and enrol a passkey again"
    )
