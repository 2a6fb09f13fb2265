"""Sending email: through SMTP when SMTP_URL is set, else into the local outbox.

`SMTP_URL` is `smtp://user:password@host:587` (STARTTLS, required unless the server is on
this machine) or `smtps://user:password@host:465` (TLS from the first byte). Without it,
mail goes to DATA_DIR/outbox, shown at /dev/mail in dev mode, and dev mode also prints the
recipient, the subject and the link to the log (never the SMTP credentials).
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from credits_app.services import outbox
from credits_app.services.errors import Unavailable
from credits_app.settings import ConfigError, get_settings

logger = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 15
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True)
class Mail:
    """An email to one person; `link` is the one link it exists for (logged in dev mode)."""

    to: str
    subject: str
    text: str
    link: str = ""


@dataclass(frozen=True)
class SmtpTarget:
    """Where SMTP_URL says to send mail."""

    scheme: str
    host: str
    port: int
    username: str
    password: str


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read SMTP_URL.

    Raises:
        ConfigError: When it is not `smtp://` or `smtps://` with a host.
    """
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465")
    return SmtpTarget(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def send_mail(mail: Mail) -> None:
    """Send the mail now.

    Raises:
        Unavailable: When the SMTP server cannot be reached or refuses the message.
    """
    settings = get_settings()
    message = _compose(mail, settings.mail_from)
    if not settings.smtp_url:
        path = outbox.write(message)
        if not settings.is_production:
            print(f"[mail] to {mail.to}: {mail.subject} ({path.name})", file=sys.stderr)
            if mail.link:
                print(f"[mail] {mail.link}", file=sys.stderr, flush=True)
        return
    target = parse_smtp_url(settings.smtp_url)
    try:
        _deliver(target, message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.error(
            "could not send mail through %s:%s: %s", target.host, target.port, type(exc).__name__
        )
        raise Unavailable("the email could not be sent; try again later") from None


def _compose(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(mail.text)
    return message


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _deliver(target: SmtpTarget, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    if target.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if target.scheme == "smtp":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif not _is_loopback(target.host):
                # A reset link hands over the account: never send one in clear over a network.
                raise smtplib.SMTPNotSupportedError("the SMTP server offers no STARTTLS")
        if target.username:
            client.login(target.username, target.password)
        client.send_message(message)
