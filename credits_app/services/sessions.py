"""Browser login sessions: a random token for the browser, only its SHA-256 in the database.

A session ends at the first of: logout or revocation, SESSION_LIFETIME_DAYS after it began
(however active), or SESSION_IDLE_TIMEOUT_MINUTES after its last event. `last_seen_at` is
written at most once a minute per session, so a busy tab does not write on every click.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from credits_app.models import AuthSession, User, utcnow
from credits_app.services.users import UserInfo
from credits_app.settings import get_settings

TOUCH_EVERY = timedelta(minutes=1)
USER_AGENT_LENGTH = 255


@dataclass(frozen=True)
class LiveSession:
    """A session that is still valid, with its user."""

    id: int
    user: UserInfo
    last_seen_at: datetime

    @property
    def touch_due(self) -> bool:
        """Whether `last_seen_at` is old enough to be written again."""
        return utcnow() - self.last_seen_at >= TOUCH_EVERY


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, as the account page lists it."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    current: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _alive(now: datetime):
    """SQL conditions for a session that has not ended (today's settings apply to old ones)."""
    settings = get_settings()
    idle = timedelta(minutes=settings.session_idle_timeout_minutes)
    lifetime = timedelta(days=settings.session_lifetime_days)
    return (
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > now,
        AuthSession.created_at > now - lifetime,
        AuthSession.last_seen_at > now - idle,
    )


def start_session(*, session: Session, user_id: int, user_agent: str = "") -> str:
    """Open a login session for the user and return its token (shown to the browser once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = timedelta(days=get_settings().session_lifetime_days)
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + lifetime,
            last_seen_at=now,
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
        )
    )
    session.commit()
    return token


def resolve_token(*, session: Session, token: object) -> LiveSession | None:
    """Return the live session of a token with its user, else None (reads only)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    now = utcnow()
    query = (
        select(User, AuthSession.id, AuthSession.last_seen_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == _hash(token), *_alive(now))
    )
    row = session.exec(query).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    return LiveSession(id=session_id, user=UserInfo.of(user), last_seen_at=last_seen)


def user_for_token(*, session: Session, token: object) -> UserInfo | None:
    """Return the user of a live session token, else None."""
    live = resolve_token(session=session, token=token)
    return live.user if live else None


def touch_session(*, session: Session, session_id: int) -> None:
    """Record activity on the session, unless that was done less than a minute ago."""
    now = utcnow()
    session.exec(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.last_seen_at <= now - TOUCH_EVERY)
        .values(last_seen_at=now)
    )
    session.commit()


def list_sessions(*, session: Session, user_id: int, current_token: str = "") -> list[SessionInfo]:
    """The user's live sessions, most recently active first."""
    current = _hash(current_token) if isinstance(current_token, str) and current_token else ""
    rows = session.exec(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, *_alive(utcnow()))
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
    ).all()
    return [
        SessionInfo(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            user_agent=row.user_agent,
            current=row.token_hash == current,
        )
        for row in rows
    ]


def _revoke(session: Session, *conditions) -> int:
    result = session.exec(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
    )
    return result.rowcount


def revoke_sessions(session: Session, user_id: int, keep_token: str = "") -> int:
    """Revoke the user's sessions but the one of `keep_token` (not committed); return how many.

    For services that end sessions in the same transaction as another change (a new password).
    """
    keep = _hash(keep_token) if isinstance(keep_token, str) and keep_token else ""
    return _revoke(session, AuthSession.user_id == user_id, AuthSession.token_hash != keep)


def end_session(*, session: Session, token: str) -> None:
    """Revoke the session of this token (logging out); unknown tokens are ignored."""
    if isinstance(token, str) and token:
        _revoke(session, AuthSession.token_hash == _hash(token))
        session.commit()


def end_user_session(*, session: Session, user_id: int, session_id: int) -> bool:
    """Revoke one of the user's sessions; False if it is not theirs or already ended."""
    ended = _revoke(session, AuthSession.user_id == user_id, AuthSession.id == session_id)
    session.commit()
    return ended == 1


def end_other_sessions(*, session: Session, user_id: int, keep_token: str) -> int:
    """Revoke every session of the user but the one of `keep_token`; return how many."""
    ended = revoke_sessions(session, user_id, keep_token)
    session.commit()
    return ended


def end_all_sessions(*, session: Session, user_id: int) -> int:
    """Revoke every session of the user (`revoke-sessions`); return how many."""
    ended = revoke_sessions(session, user_id)
    session.commit()
    return ended


def is_admin(user: UserInfo) -> bool:
    """Tell whether the user may use admin pages: only the stored admin flag counts.

    ADMIN_EMAILS is ignored: an email on it could be claimed by registering it first,
    and a verified address would still make a setting the way into admin rights.
    """
    return user.is_admin
