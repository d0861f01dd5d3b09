"""The petition-widget command: serve, and campaign load/list."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields

from widget import campaigns
from widget.settings import ENV_PREFIX, Settings, SettingsError
from widget.store import open_store


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        help=f"SQLite database file (env {ENV_PREFIX}DATABASE; default ./petition-widget.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petition-widget", description="An embeddable petition widget service."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host", help=f"address to listen on (env {ENV_PREFIX}HOST)")
    serve.add_argument("--port", type=int, help=f"port to listen on (env {ENV_PREFIX}PORT)")
    _database_flag(serve)

    campaign = commands.add_parser("campaign", help="manage campaigns")
    actions = campaign.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser("load", help="create or update a campaign from a TOML file")
    load.add_argument("file", help="the campaign file (TOML)")
    _database_flag(load)
    listing = actions.add_parser("list", help="list campaigns: slug, status, count")
    _database_flag(listing)

    settings_help = commands.add_parser("settings", help="list every setting and its variable")
    settings_help.set_defaults(action=None)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load(
            **{name: getattr(args, name, None) for name in ("host", "port", "database")}
        )
        if args.command == "serve":
            serve(settings)
        elif args.command == "campaign" and args.action == "load":
            asyncio.run(load_campaign(settings, args.file))
        elif args.command == "campaign" and args.action == "list":
            asyncio.run(list_campaigns(settings))
        elif args.command == "settings":
            print_settings()
    except (SettingsError, campaigns.CampaignError) as exc:
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


async def load_campaign(settings: Settings, path: str) -> None:
    campaign = campaigns.load_file(path)  # validated before the database is touched
    store = open_store(settings.database)
    await store.open()
    try:
        created = await store.save_campaign(campaign)
    finally:
        await store.close()
    print(f"{'created' if created else 'updated'} campaign {campaign.slug}")


async def list_campaigns(settings: Settings) -> None:
    store = open_store(settings.database)
    await store.open()
    try:
        rows = await store.campaigns()
    finally:
        await store.close()
    if not rows:
        print("no campaigns")
        return
    width = max(len(c.slug) for c, _ in rows)
    print(f"{'SLUG':<{width}}  {'STATUS':<6}  {'COUNT':>8}  SIGNATURES")
    for campaign, signatures in rows:
        count = campaign.counter_offset + signatures
        print(f"{campaign.slug:<{width}}  {campaign.status:<6}  {count:>8}  {signatures}")


def print_settings() -> None:
    for setting in fields(Settings):
        variable = ENV_PREFIX + setting.name.upper()
        print(f"{variable}\n    {setting.metadata['help']} (default: {setting.default!r})")
