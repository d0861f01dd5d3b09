"""create_app(settings): the route table, the middleware and the lifespan, in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from widget import auth, campaigns, keychecks, passkeys, urls
from widget.confirmation import Composer
from widget.counter import Counter
from widget.delivery import Compression, FastPath, VersionedStaticFiles
from widget.heap import ServingHeap
from widget.housekeeping import Housekeeping
from widget.logins import LoginLimiter
from widget.mail import Outbox, parse_smtp_url
from widget.partners import PartnerLinks
from widget.passkeys import Ceremonies
from widget.ratelimit import SignLimiter
from widget.registry import CampaignRegistry
from widget.resources import resource
from widget.sealing import Sealer, operator_public_key
from widget.security import BodyLimit, HostGuard, SecurityHeaders
from widget.service import Service
from widget.settings import Settings
from widget.signing import Tokens
from widget.store import Store, StoreError, open_store
from widget.templating import Templates
from widget.views import (
    admin,
    admin_campaigns,
    admin_login,
    admin_passkeys,
    api,
    confirm,
    demo,
    embed,
    errors,
    oembed,
    pages,
    preview,
    withdraw,
)
from widget.views import admin_records as records
from widget.views import admin_translations as translations
from widget.withdrawal import Receipts

log = logging.getLogger(__name__)


def fast_paths() -> list[tuple[str, type[FastPath]]]:
    """Paths answered in front of the router and every middleware, from bytes: the hottest
    ones (the counter JSON, asked for on every partner page view, and the iframe document and
    reader pages). Each also has an ordinary route in routes(), which answers what the fast
    path passes on (an unknown slug, HEAD)."""
    return [
        (urls.API_CAMPAIGN, api.CounterFastPath),
        (urls.EMBED, pages.ReaderPages),
        (urls.COUNTER, pages.ReaderPages),
        (urls.HOSTED, pages.ReaderPages),
    ]


def routes() -> list[Route | Mount]:
    return [
        Route(urls.HOME, demo.home, name="home"),
        Route(urls.HEALTHZ, api.healthz, name="healthz"),
        Route(urls.READYZ, api.readyz, name="readyz"),
        Route(urls.EMBED_JS, demo.embed_js, name="embed_js"),
        Route(urls.HOSTED, embed.hosted, name="hosted"),  # and a fast path
        Route(urls.EMBED, embed.embed, name="embed"),  # and a fast path
        Route(urls.COUNTER, embed.counter_frame, name="counter"),  # and a fast path
        Route(urls.CARD, embed.card_frame, name="card"),
        Route(urls.PREVIEW, preview.picture, name="preview"),
        Route(urls.OEMBED, oembed.oembed, name="oembed"),
        Route(urls.SIGN, embed.sign, methods=["POST"], name="sign"),
        Route(urls.THANKS, embed.thanks, name="thanks"),
        Route(urls.CONFIRM, confirm.page, methods=["GET"], name="confirm"),
        Route(urls.CONFIRM, confirm.confirm, methods=["POST"]),
        Route(urls.WITHDRAW, withdraw.form, methods=["GET"], name="withdraw"),
        Route(urls.WITHDRAW, withdraw.withdraw, methods=["POST"]),
        Route(urls.API_CAMPAIGN, api.campaign, name="api_campaign"),  # and a fast path
        Route(urls.PARTNER_EXPORT, records.partner_export, name="partner_export"),
        Route(urls.ADMIN, admin.home, name="admin"),
        Route(urls.ADMIN_LOGIN, admin_login.login_form, methods=["GET"]),
        Route(urls.ADMIN_LOGIN, admin_login.login, methods=["POST"]),
        Route(urls.ADMIN_LOGOUT, admin_login.logout, methods=["POST"]),
        Route(urls.ADMIN_LOGIN_PASSKEY, admin_passkeys.login_form, methods=["GET"]),
        Route(urls.ADMIN_LOGIN_PASSKEY, admin_passkeys.login, methods=["POST"]),
        Route(urls.ADMIN_PASSKEYS, admin_passkeys.listing, methods=["GET"]),
        Route(urls.ADMIN_PASSKEYS, admin_passkeys.add, methods=["POST"]),
        Route(urls.ADMIN_PASSKEY_REMOVE, admin_passkeys.remove, methods=["POST"]),
        Route(urls.ADMIN_RECOVERY_CODES, admin_passkeys.new_codes, methods=["POST"]),
        Route(urls.ADMIN_CAMPAIGN_NEW, admin_campaigns.campaign_form, methods=["GET"]),
        Route(urls.ADMIN_CAMPAIGN_NEW, admin_campaigns.campaign_create, methods=["POST"]),
        Route(urls.ADMIN_CAMPAIGN, admin_campaigns.campaign_show, methods=["GET"]),
        Route(urls.ADMIN_CAMPAIGN, admin_campaigns.campaign_update, methods=["POST"]),
        Route(urls.ADMIN_EXPORT, records.export, methods=["POST"]),
        Route(urls.ADMIN_PARTNER_LINK, records.partner_link, methods=["POST"]),
        Route(urls.ADMIN_REVIEW, records.review_action, methods=["POST"]),
        Route(urls.ADMIN_TRANSLATION, translations.editor, methods=["GET"]),
        Route(urls.ADMIN_TRANSLATION, translations.save, methods=["POST"]),
        Route(urls.ADMIN_PARTNERS, records.partner_list, methods=["GET"]),
        Route(urls.ADMIN_PARTNERS, records.partner_save, methods=["POST"]),
        Route(urls.ADMIN_PARTNER_ROTATE, records.partner_rotate, methods=["POST"]),
        Route(urls.ADMIN_PARTNER_REMOVE, records.partner_remove, methods=["POST"]),
        Route(urls.ADMIN_SIGNERS, records.signers, methods=["GET"]),
        Route(urls.ADMIN_SIGNERS, records.signer_delete, methods=["POST"]),
        Route(urls.ADMIN_AUDIT, records.audit_log),
        Route(urls.ADMIN_DECRYPT, records.decrypt_page, methods=["GET"]),
        Route(urls.ADMIN_SESSIONS, admin_login.sessions, methods=["GET"]),
        Route(urls.ADMIN_SESSIONS, admin_login.session_end, methods=["POST"]),
        Mount(urls.STATIC, app=VersionedStaticFiles(directory=resource("static")), name="static"),
    ]


def host_guard(settings: Settings) -> list[Middleware]:
    """In front of everything once the public URL is known: other host names get 400."""
    if not settings.public_url:
        return []
    exempt = (urls.HEALTHZ, urls.READYZ)
    return [Middleware(HostGuard, public_url=settings.public_url, exempt=exempt)]


async def load_default_campaign(store: Store) -> None:
    """On first start (no campaign yet), load the Belarus campaign that ships with the package."""
    if not await store.campaigns():
        campaign = campaigns.load_file(resource("campaigns") / "belarus.toml")
        await store.save_campaign(campaign)
        log.info("loaded the default campaign %r", campaign.slug)


async def prepare(settings: Settings) -> None:
    """What several workers must not each make at once: the secret key, the operator's key
    pair (a new install's), the schema and the default campaign."""
    settings = await keychecks.checked(settings)
    operator_public_key(settings.public_key, settings)
    store = open_store(
        settings.database, settings.sqlite_synchronous, pool_size=1,
        timeout=settings.db_timeout_seconds,
    )  # fmt: skip
    await store.open()
    try:
        await load_default_campaign(store)
    finally:
        await store.close()


def from_environment() -> ServingHeap:
    """The app of one worker process of `serve --workers N`, from the environment."""
    from widget.cli.common import configure_logging

    configure_logging()
    settings = Settings.load()
    return ServingHeap(create_app(settings), pin_cpu=settings.pin_workers)


async def stopped(tasks: list[asyncio.Task[None]], patience: float = 1.0) -> None:
    """Cancel the service's own tasks and wait until each has ended. On Python 3.11,
    asyncio.wait_for (inside aiosmtplib and asyncpg) can lose a cancellation that comes as
    what it awaits ends; the task then goes on to its next wait, and a shutdown that awaited
    it would wait for ever (seen in CI: the outbox, back on its queue). So a task still
    running after `patience` seconds is cancelled again."""
    running = set(tasks)
    while running:
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=patience)
    for task in tasks:  # an error of a task's own (not its cancellation) ends the shutdown
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: Settings) -> Starlette:
    """The ASGI app for these settings. Nothing is opened until the lifespan starts."""
    settings = settings.resolve()
    store = open_store(
        settings.database, settings.sqlite_synchronous, pool_size=settings.db_pool_size,
        timeout=settings.db_timeout_seconds,
    )  # fmt: skip
    counter = Counter(
        store.counts, settings.counter_cache_seconds, read_published=store.published_count
    )
    store.listeners.append(counter.note)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        try:
            await keychecks.verify(store, settings)
            await keychecks.note_public_key(store, service.sealer.operator_key)
            await load_default_campaign(store)
            await service.campaigns.reload(force=True)
            await counter.refresh()
            passkeys.load()
            tasks = [
                asyncio.create_task(housekeeping.run(), name="housekeeping"),
                asyncio.create_task(
                    counter.publish_on_time(service.campaigns.known), name="published counts"
                ),
            ]
            if service.outbox is not None:
                tasks.append(asyncio.create_task(service.outbox.run(), name="outbox"))
            try:
                yield
            finally:
                await stopped(tasks)
        finally:
            service.sealer.end_windows()
            await store.close()
            await service.sign_limiter.close()
            await service.logins.close()

    service = Service(
        settings=settings,
        store=store,
        counter=counter,
        campaigns=CampaignRegistry(store, settings.counter_cache_seconds),
        tokens=Tokens(settings.secret, settings.token_max_age, settings.min_fill_seconds),
        templates=Templates(urls.URLs()),
        embed_js=resource("embed.js").read_bytes(),
        partner_links=PartnerLinks(settings.secret),
        sealer=Sealer(operator_public_key(settings.public_key, settings)),
        logins=LoginLimiter(settings.rate_limit_storage, settings.secret),
        ceremonies=Ceremonies(settings.secret),
        sign_limiter=SignLimiter.from_settings(settings),
        receipts=Receipts(settings.secret),
    )
    service.campaigns.reloaded += [service.pages.clear, service.page_requests.clear]
    if settings.smtp_url and settings.mail_from:
        composer = Composer(store, service.campaigns, settings.mail_from, settings.confirm_days)
        service.outbox = Outbox(parse_smtp_url(settings.smtp_url, settings.smtp_ca_file), composer)
    housekeeping = Housekeeping(
        store, lambda: service.campaigns.reload(force=True), confirm_days=settings.confirm_days
    )
    app = Starlette(
        routes=routes(),
        middleware=[
            *host_guard(settings),
            *(Middleware(fast, service=service, path=path) for path, fast in fast_paths()),
            Middleware(SecurityHeaders),
            Middleware(Compression),
            Middleware(
                BodyLimit,
                max_bytes=settings.max_body_bytes,
                timeout=settings.body_timeout_seconds,
            ),
            Middleware(
                auth.AdminSessions,
                store=store,
                secret=settings.secret,
                idle=settings.admin_idle_minutes * 60,
                lifetime=settings.admin_session_hours * 3600,
                confirm=settings.admin_confirm_minutes * 60,
                require_passkey=settings.admin_require_passkey,
            ),
        ],
        exception_handlers={
            HTTPException: errors.http_error,
            StoreError: errors.store_error,
            ClientDisconnect: errors.client_gone,
            auth.LoginRequired: lambda request, exc: auth.login_redirect(request),
            auth.ConfirmRequired: admin.confirm_page,
            auth.EnrolRequired: lambda request, exc: RedirectResponse(urls.ADMIN_PASSKEYS, 303),
        },
        lifespan=lifespan,
    )
    app.state.service = service
    return app
