"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

LINK = re.compile(r"https?://\S+")


@dataclass
class SmtpServer:
    """A running server: its SMTP_URL and the messages it accepted."""

    url: str
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def wait_for(self, to: str, subject: str = "", timeout: float = 10) -> EmailMessage:
        """The newest message to `to` (whose subject contains `subject`), waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if message["To"] == to and subject in str(message["Subject"]):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} within {timeout} s")


def body(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage) -> str:
    """The first link of a message."""
    return LINK.search(body(message)).group()


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server, _session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.server.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a certificate for 127.0.0.1 and localhost with openssl; return (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    names = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
    ]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert), "-addext", names],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def smtp_server(
    *, tls: str = "", cert: tuple[Path, Path] | None = None, password: str = ""
) -> Iterator[SmtpServer]:
    """Serve SMTP on 127.0.0.1.

    Args:
        tls: "" (plain), "starttls" (required before anything else) or "implicit" (smtps).
        cert: (certificate, key) for TLS.
        password: When set, clients must log in (user "mailer") with this password.
    """
    from aiosmtpd.smtp import AuthResult

    port = _free_port()
    scheme = "smtps" if tls == "implicit" else "smtp"
    credentials = f"mailer:{password}@" if password else ""
    server = SmtpServer(f"{scheme}://{credentials}127.0.0.1:{port}")
    context = None
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))

    def authenticate(_server, _session, _envelope, _mechanism, data) -> AuthResult:
        server.logins.append((data.login.decode(), data.password.decode()))
        ok = data.login == b"mailer" and data.password == password.encode()
        return AuthResult(success=ok)

    kwargs = {"authenticator": authenticate, "auth_required": True} if password else {}
    if tls == "implicit":
        kwargs["auth_require_tls"] = False  # aiosmtpd cannot tell that the socket is TLS
    if tls == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    controller = _controller(server, port, context, tls, kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def _controller(server: SmtpServer, port: int, context, tls: str, kwargs: dict):
    from aiosmtpd.controller import Controller

    return Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=port,
        ssl_context=context if tls == "implicit" else None,
        server_hostname="localhost",
        **kwargs,
    )
