"""Browser login sessions: a random token for the browser, only its SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from credits_app.models import AuthSession, User, utcnow
from credits_app.services.users import UserInfo
from credits_app.settings import get_settings

SESSION_DAYS = 30


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(*, session: Session, user_id: int, days: int = SESSION_DAYS) -> str:
    """Open a login session for the user and return its token (shown to the browser once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.commit()
    return token


def user_for_token(*, session: Session, token: str) -> UserInfo | None:
    """Return the user of a live (not expired, not revoked) session token, else None."""
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    query = (
        select(User, AuthSession.expires_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == _hash(token), AuthSession.revoked_at.is_(None))
    )
    row = session.exec(query).first()
    if row is None or row[1] <= utcnow():
        return None
    return UserInfo.of(row[0])


def end_session(*, session: Session, token: str) -> None:
    """Revoke the session of this token (logging out); unknown tokens are ignored."""
    if not isinstance(token, str) or not token:
        return
    session.exec(
        update(AuthSession)
        .where(AuthSession.token_hash == _hash(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()


def is_admin(user: UserInfo) -> bool:
    """Tell whether the user may use admin pages: the admin flag or ADMIN_EMAILS."""
    return user.is_admin or user.email.lower() in get_settings().admin_email_set
