"""One-time links sent by email: a random token in the link, only its SHA-256 stored.

A token is used at most once (an atomic conditional UPDATE, safe under concurrency) and
only before it expires. Using one also retires the user's other unused tokens of the same
purpose, so an older mail cannot be replayed after a newer link was followed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from credits_app.models import EmailToken, utcnow
from credits_app.services.errors import InvalidLink

VERIFY = "verify"
RESET = "reset"


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, user_id: int, purpose: str, ttl: timedelta) -> str:
    """Store a new token for the user (not committed) and return it for the link."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        EmailToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def retire_tokens(*, session: Session, user_id: int, purpose: str) -> None:
    """Mark every unused token of this purpose as used (not committed)."""
    session.exec(
        update(EmailToken)
        .where(
            EmailToken.user_id == user_id,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def use_token(*, session: Session, token: object, purpose: str) -> int:
    """Spend a token (not committed) and return its user's id.

    Raises:
        InvalidLink: When the token is unknown, of another purpose, used or expired.
    """
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        raise InvalidLink("this link is not valid")
    digest = token_hash(token)
    now = utcnow()
    user_id = session.exec(
        select(EmailToken.user_id).where(
            EmailToken.token_hash == digest, EmailToken.purpose == purpose
        )
    ).first()
    spent = session.exec(
        update(EmailToken)
        .where(
            EmailToken.token_hash == digest,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if user_id is None or spent.rowcount != 1:
        raise InvalidLink("this link was already used or has expired; ask for a new one")
    retire_tokens(session=session, user_id=user_id, purpose=purpose)
    return user_id
