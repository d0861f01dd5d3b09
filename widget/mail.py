"""Sending email through the operator's SMTP server (aiosmtplib), from a queue that retries and
never holds up a reader: signing puts a letter in the queue and answers at once.

The queue lives in this process's memory only. A confirmation email needs the reader's address
in the clear, and the store keeps it only sealed (the server cannot open it): so the address is
held in memory until the email is sent, never written to disk, and lost if the process stops
first (the reader can sign again for a new link)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Generic, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

log = logging.getLogger(__name__)

# Seconds before each new attempt; then the letter is given up (logged, without the address).
RETRY_DELAYS = (10.0, 60.0, 300.0, 1800.0, 7200.0)
CAPACITY = 10_000
SEND_TIMEOUT = 30.0
Letter = TypeVar("Letter")


class MailSettingsError(ValueError):
    """The SMTP address cannot be used; the message says why (never the password)."""


@dataclass(frozen=True)
class Smtp:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # smtps://: TLS from the first byte
    start_tls: bool  # smtp://: STARTTLS, required (a relay on this machine may do without)
    ca_file: str | None = None

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"Smtp({self.hostname}:{self.port}, tls={self.use_tls}, starttls={self.start_tls})"

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def settings_problem(smtp_url: str, mail_from: str | None) -> str | None:
    """What is wrong with the mail settings, naming the setting (without its prefix); None if
    nothing is. Settings.resolve asks, once, at start."""
    from email_validator import EmailNotValidError, validate_email

    try:
        parse_smtp_url(smtp_url)
    except MailSettingsError as exc:
        return f"SMTP_URL: {exc}"
    if not mail_from:
        return "MAIL_FROM: required with SMTP_URL"
    try:
        validate_email(mail_from, check_deliverability=False)
    except EmailNotValidError:
        return "MAIL_FROM: expected an address like petitions@example.org"
    return None


def parse_smtp_url(url: str, ca_file: str | None = None) -> Smtp:
    """smtp://USER:PASSWORD@HOST:587 (STARTTLS) or smtps://USER:PASSWORD@HOST:465 (TLS).
    `?starttls=off` is accepted only for a relay on this machine (localhost)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise MailSettingsError(
            "expected smtp://USER:PASSWORD@HOST:587 (STARTTLS) or smtps://USER:PASSWORD@HOST:465"
        )
    try:
        port = parts.port
    except ValueError:
        raise MailSettingsError("the port is not a number") from None
    host = parts.hostname
    if not host:
        raise MailSettingsError("no host name")
    query = parse_qs(parts.query)
    plain = query.get("starttls") == ["off"]
    if set(query) - {"starttls"} or (query and not plain):
        raise MailSettingsError("the only option is ?starttls=off, for a relay on localhost")
    if plain and not _loopback(host):
        raise MailSettingsError(
            "?starttls=off sends mail unencrypted: only for a relay on localhost"
        )
    tls = parts.scheme == "smtps"
    return Smtp(
        hostname=host,
        port=port or (465 if tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=tls,
        start_tls=not tls and not plain,
        ca_file=ca_file,
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def send(smtp: Smtp, message: EmailMessage) -> None:
    await aiosmtplib.send(
        message,
        hostname=smtp.hostname,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        use_tls=smtp.use_tls,
        start_tls=smtp.start_tls,
        tls_context=smtp.tls_context() if smtp.use_tls or smtp.start_tls else None,
        timeout=SEND_TIMEOUT,
    )


class Outbox(Generic[Letter]):
    """Letters waiting to be composed and sent, one at a time, each retried on failure."""

    def __init__(
        self,
        smtp: Smtp,
        compose: Callable[[Letter], Awaitable[EmailMessage]],
        delays: tuple[float, ...] | None = None,
        capacity: int = CAPACITY,
    ) -> None:
        self.smtp = smtp
        self.compose = compose
        self.delays = RETRY_DELAYS if delays is None else delays
        self._queue: asyncio.Queue[tuple[Letter, int]] = asyncio.Queue(capacity)
        self._retries: set[asyncio.TimerHandle] = set()

    def post(self, letter: Letter) -> bool:
        """Queue a letter; False (and a warning) if the queue is full."""
        try:
            self._queue.put_nowait((letter, 0))
        except asyncio.QueueFull:
            log.warning("the mail queue is full: a confirmation email was not queued")
            return False
        return True

    async def run(self) -> None:
        try:
            while True:
                letter, attempt = await self._queue.get()
                await self._deliver(letter, attempt)
        finally:
            for handle in self._retries:
                handle.cancel()

    async def _deliver(self, letter: Letter, attempt: int) -> None:
        try:
            await send(self.smtp, await self.compose(letter))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The error names the server's answer, never the address.
            if attempt >= len(self.delays):
                log.error("gave up a confirmation email after %d attempts (%s)", attempt + 1,
                          _described(exc))  # fmt: skip
                return
            log.warning("a confirmation email failed (%s); trying again", _described(exc))
            self._later(letter, attempt + 1, self.delays[attempt])
        except Exception as exc:  # its message or traceback could quote the address
            log.error("a confirmation email could not be composed (%s)", type(exc).__name__)

    def _later(self, letter: Letter, attempt: int, delay: float) -> None:
        def again() -> None:
            self._retries.discard(handle)
            try:
                self._queue.put_nowait((letter, attempt))
            except asyncio.QueueFull:
                log.warning("the mail queue is full: a retried email was dropped")

        handle = asyncio.get_running_loop().call_later(delay, again)
        self._retries.add(handle)


def _described(exc: Exception) -> str:
    """The kind of failure and the server's reply code, never its text: a refusal such as
    "550 <name@example.org>: unknown user" quotes the recipient's address."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__
