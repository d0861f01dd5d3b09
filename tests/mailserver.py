"""A real SMTP server run by the tests (aiosmtpd), with STARTTLS and login, that keeps what it
receives: the app sends to it exactly as it would to the operator's server."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import ssl
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port

USER, PASSWORD = "mailer", "s3cret p@ss"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip
    return cert_path, key_path


class MailServer:
    """Started and stopped by the test; `messages` are what arrived, parsed."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []
        self.quits = 0  # sessions the sender ended with QUIT (one per email)
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, tls_context=context,
            require_starttls=True, auth_require_tls=True, authenticator=self._authenticate,
        )  # fmt: skip

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USER
            and auth_data.password.decode() == PASSWORD
        )
        if ok:
            self.logins.append(USER)
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope) -> str:
        self.quits += 1
        return "221 Bye"

    @property
    def url(self) -> str:
        return f"smtp://{USER}:s3cret%20p%40ss@localhost:{self.port}"

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first n emails, once they are in and the sender has ended each one's session
        (the app sends from this test's event loop, one session per email, QUIT after DATA)."""
        deadline = time.monotonic() + timeout
        while min(len(self.messages), self.quits) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(self.messages) >= n, f"{len(self.messages)} of {n} emails arrived"
        assert self.quits >= n, f"{self.quits} of {n} sessions ended"
        return self.messages[:n]
