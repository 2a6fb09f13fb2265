"""The development mailbox: account emails kept as .eml files under DATA_DIR/outbox."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from credits_app.models import utcnow
from credits_app.settings import get_settings

KEEP = 200
LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class OutboxMail:
    """One message of the outbox, as the /dev/mail page shows it."""

    name: str
    to: str
    subject: str
    sent_at: str
    text: str
    links: tuple[str, ...]


def outbox_dir() -> Path:
    """The outbox folder (DATA_DIR/outbox)."""
    return get_settings().data_dir / "outbox"


def write(message: EmailMessage) -> Path:
    """Store the message as the newest .eml file; drop the oldest past KEEP files."""
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{secrets.token_hex(3)}.eml"
    path.write_bytes(message.as_bytes())
    for old in sorted(folder.glob("*.eml"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


def read(limit: int = 50) -> list[OutboxMail]:
    """The newest messages first."""
    folder = outbox_dir()
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit] if folder.is_dir() else []
    return [_parse(path) for path in paths]


def _parse(path: Path) -> OutboxMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    sent = datetime.strptime(path.name[:21], "%Y%m%dT%H%M%S%f")
    return OutboxMail(
        name=path.name,
        to=str(message["To"]),
        subject=str(message["Subject"]),
        sent_at=sent.strftime("%Y-%m-%d %H:%M:%S UTC"),
        text=text,
        links=tuple(LINK.findall(text)),
    )
