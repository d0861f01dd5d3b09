"""The petition-widget command. Every operator action in the admin has a command here too,
so operators can automate, and recover when the web admin is down. The commands live by noun
in widget/cli/content.py and widget/cli/data.py; they call widget/operations.py."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import ipaddress
import os
import sys
from collections.abc import Sequence
from dataclasses import fields

from widget import (
    campaigns,
    doctor,
    exports,
    keychecks,
    operations,
    operators,
    partners,
    review,
    sealing,
)
from widget.cli import content, data
from widget.cli.common import CommandError, configure_logging, database_flag
from widget.settings import ENV_PREFIX, Settings, SettingsError, database_file, is_postgres
from widget.store import StoreError

__all__ = ["CommandError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petition-widget", description="An embeddable petition widget service."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = database_flag(commands.add_parser("serve", help="run the web service"))
    serve.add_argument("--host", help=f"address to listen on (env {ENV_PREFIX}HOST)")
    serve.add_argument("--port", type=int, help=f"port to listen on (env {ENV_PREFIX}PORT)")
    serve.add_argument(
        "--workers", type=int, help=f"processes to run, one per core (env {ENV_PREFIX}WORKERS)"
    )
    serve.add_argument(
        "--server", choices=("uvicorn", "granian"),
        help=f"the HTTP server (env {ENV_PREFIX}SERVER; granian needs the granian extra)",
    )  # fmt: skip

    group = commands.add_parser("campaign", help="manage campaigns")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = database_flag(actions.add_parser("load", help="create or update from a TOML file"))
    load.add_argument("file", help="the campaign file (TOML)")
    database_flag(actions.add_parser("list", help="list campaigns: slug, status, count"))
    dump = database_flag(actions.add_parser("dump", help="write a campaign back out as TOML"))
    dump.add_argument("slug")
    dump.add_argument("-o", "--output", help="file to write (default: standard output)")
    set_ = database_flag(actions.add_parser("set", help="change one field of a campaign"))
    set_.add_argument("slug")
    set_.add_argument("field")
    set_.add_argument("value", help='a TOML value (785, true, "text", ["a", "b"]) or plain text')

    group = commands.add_parser("partner", help="manage partners")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = database_flag(actions.add_parser("add", help="register or update a partner"))
    add.add_argument("code")
    add.add_argument("--name", help="required for a new partner")
    add.add_argument("--contact", help='who to write to ("" removes it)')
    add.add_argument("--origin", action="append", help="may embed from (repeat; replaces all)")
    add.add_argument("--no-origins", action="store_true", help="may embed from nowhere")
    add.add_argument("--public-key", help='the partner\'s own public key (base64; "" removes it)')
    add.epilog = "Updating a partner changes only what is given; the rest is kept."
    database_flag(actions.add_parser("list", help="list partners"))
    link = database_flag(actions.add_parser("link", help="make a partner's export link"))
    link.add_argument("slug")
    link.add_argument("code")
    link.add_argument("--days", type=int, default=partners.LINK_DAYS_DEFAULT)
    link.add_argument("--base", help="the service's public URL (default: PUBLIC_URL setting)")
    rotate = database_flag(actions.add_parser("rotate", help="revoke every export link"))
    rotate.add_argument("code")
    remove = database_flag(actions.add_parser("remove", help="end a partnership"))
    remove.add_argument("code")

    purge = database_flag(
        commands.add_parser("purge", help="remove a closed campaign's personal data")
    )
    purge.set_defaults(action=None)
    purge.add_argument("slug")
    purge.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    forget = database_flag(
        commands.add_parser("forget-domains", help="clear the stored hashes of email domains")
    )
    forget.set_defaults(action=None)
    minutes = database_flag(commands.add_parser(
        "forget-minutes", help="keep only the hour of each signature's time, as new ones do"
    ))  # fmt: skip
    minutes.set_defaults(action=None)

    release = database_flag(commands.add_parser("release", help="count signatures held for review"))
    release.set_defaults(action=None)
    release.add_argument("slug")

    invalidate = database_flag(
        commands.add_parser("invalidate", help="uncount a flood: by partner, time or domain")
    )
    invalidate.set_defaults(action=None)
    invalidate.add_argument("slug")
    invalidate.add_argument("--partner")
    invalidate.add_argument(
        "--since", help="from this time (ISO 8601, UTC unless given; from its whole hour, as "
        "a signature keeps only the hour it was made in)"
    )  # fmt: skip
    invalidate.add_argument("--until", help="up to this time (to the end of its hour)")
    invalidate.add_argument("--email-domain")

    keys = commands.add_parser("keys", help="the key pair that seals personal data")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="write a new key pair (run it on your machine)")
    generate.add_argument("--out", default=".", help="folder for the two key files")
    generate.add_argument("--name", default="operator", help="file name prefix")

    backup = database_flag(
        commands.add_parser("backup", help="copy a SQLite database, whole and consistent")
    )
    backup.set_defaults(action=None)
    backup.add_argument("file", help="a new file for the copy (a backup never replaces one)")

    seal = database_flag(commands.add_parser("seal", help="seal rows stored before sealing"))
    seal.set_defaults(action=None)

    decrypt = commands.add_parser("decrypt", help="open a sealed export with a private key")
    decrypt.set_defaults(action=None)
    decrypt.add_argument("file", help="a sealed CSV export from the admin or a partner link")
    decrypt.add_argument(
        "--private-key", required=True, action="append",
        help="the private key file (once for each key the rows were sealed to)",
    )  # fmt: skip
    decrypt.add_argument("-o", "--output", help="file to write (default: standard output)")

    export = database_flag(commands.add_parser("export", help="write a CSV export"))
    export.add_argument(
        "--private-key", action="append",
        help="the operator's private key file (names, emails); once for each key, if the "
        "public key was ever changed",
    )  # fmt: skip
    export.add_argument("slug")
    export.add_argument("--kind", choices=exports.KINDS, required=True)
    export.add_argument("--partner", help="the partner, for --kind partner")
    export.add_argument("--first-names", action="store_true", help="delivery: add first names")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")

    group = commands.add_parser("signer", help="act on a signer's request about their data")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    delete = database_flag(actions.add_parser("delete", help="delete a signer's signatures"))
    delete.add_argument("--email", required=True)
    delete.add_argument("--campaign", help="only in this campaign")

    group = commands.add_parser("operator", help="manage admin accounts")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = database_flag(actions.add_parser("add", help="add an operator or set a password"))
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true", help="read the password")
    database_flag(actions.add_parser("list", help="list operators"))
    remove = database_flag(actions.add_parser("remove", help="remove an operator"))
    remove.add_argument("email")
    reset = database_flag(
        actions.add_parser(
            "reset-2fa", help="remove an operator's passkeys and recovery codes (a lost key)"
        )
    )
    reset.add_argument("email")

    commands.add_parser("settings", help="list every setting and its variable")
    database_flag(
        commands.add_parser("doctor", help="check this deployment for ways who signed could leak")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings = Settings.load(
            **{
                name: getattr(args, name, None)
                for name in ("host", "port", "database", "workers", "server")
            }
        )
        if args.command == "serve":
            serve(settings)
        elif args.command == "settings":
            print_settings()
        elif args.command == "keys":
            data.generate_keys(args)
        elif args.command == "decrypt":
            data.decrypt(args)
        elif args.command == "doctor":
            findings = doctor.check(settings) + asyncio.run(doctor.check_stored(settings))
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
        StoreError,  # the database cannot be opened, or failed: its message says which
    ) as exc:
        sys.exit(f"petition-widget: {exc}")


def serve(settings: Settings) -> None:
    import uvicorn

    from widget.app import create_app
    from widget.heap import ServingHeap

    if not settings.public_url and not is_loopback(settings.host):
        raise CommandError(
            f"refusing to serve on {settings.host} without {ENV_PREFIX}PUBLIC_URL: the "
            "share links and the check that a signature comes from our own pages would "
            "follow whatever host name a request names. Set it to the address readers use "
            "(https://petitions.example.org), or serve on 127.0.0.1 behind a proxy."
        )

    refuse_a_read_only_database(settings.database)
    if settings.server == "granian" and settings.pin_workers:
        raise CommandError(
            f"{ENV_PREFIX}PIN_WORKERS pins uvicorn's processes only: unset it to serve with "
            "granian, or serve with uvicorn (the default)"
        )
    if settings.server == "granian" and importlib.util.find_spec("granian") is None:
        raise CommandError(
            "granian is not installed: pip install 'petition-widget[granian]', or serve with "
            "uvicorn (the default)"
        )
    from widget.server import uvicorn_options

    if settings.workers == 1 and settings.server == "uvicorn":
        # The keys first, against the database: a lost keys folder is refused, not remade.
        settings = asyncio.run(keychecks.checked(settings))
        app = ServingHeap(create_app(settings), pin_cpu=settings.pin_workers)
        uvicorn.run(app, **uvicorn_options(settings))
        return
    # Several processes: what must be made once (the secret key, the key pair, the schema, the
    # default campaign) is made here, before any worker starts; each worker then builds the
    # app from the environment, to which the command line's flags are added.
    from widget.app import prepare

    asyncio.run(prepare(settings))
    for name in ("host", "port", "database"):
        os.environ[ENV_PREFIX + name.upper()] = str(getattr(settings, name))
    if settings.server == "granian":
        from widget.server import run_granian

        run_granian(settings)
        return
    options = {**uvicorn_options(settings), "http": "widget.server:FromEnvironment"}
    uvicorn.run("widget.app:from_environment", factory=True, workers=settings.workers, **options)


def refuse_a_read_only_database(database: str) -> None:
    """SQLite writes beside its file (the -wal and -shm files, and each signature): on a folder
    that cannot be written (a disk mounted or remounted read-only) say so, rather than fail in
    the middle of starting with a traceback."""
    if is_postgres(database):
        return
    folder = database_file(database).resolve().parent
    while not folder.exists():  # a first start creates the folder: its parent must take it
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise CommandError(
            f"the database's folder {folder} cannot be written (a read-only disk?): SQLite "
            "writes each signature and its -wal file there. Make it writable, or set "
            f"{ENV_PREFIX}DATABASE to a file on a writable disk. Nothing was changed."
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def print_settings() -> None:
    for setting in fields(Settings):
        variable = ENV_PREFIX + setting.name.upper()
        print(f"{variable}\n    {setting.metadata['help']} (default: {setting.default!r})")


HANDLERS = {
    ("campaign", "load"): content.campaign_load,
    ("campaign", "list"): content.campaign_list,
    ("campaign", "dump"): content.campaign_dump,
    ("campaign", "set"): content.campaign_set,
    ("partner", "add"): content.partner_add,
    ("partner", "list"): content.partner_list,
    ("partner", "link"): content.partner_link,
    ("partner", "rotate"): content.partner_rotate,
    ("partner", "remove"): content.partner_remove,
    ("export", None): data.export,
    ("backup", None): data.backup,
    ("seal", None): data.seal_rows,
    ("purge", None): data.purge,
    ("release", None): data.release,
    ("invalidate", None): data.invalidate,
    ("forget-domains", None): data.forget_domains,
    ("forget-minutes", None): data.forget_minutes,
    ("signer", "delete"): data.signer_delete,
    ("operator", "add"): data.operator_add,
    ("operator", "list"): data.operator_list,
    ("operator", "remove"): data.operator_remove,
    ("operator", "reset-2fa"): data.operator_reset_second_factor,
}
