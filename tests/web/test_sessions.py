"""Login sessions: only the token's hash is stored; expiry and logout end a session."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlmodel import select

from credits_app.models import AuthSession, utcnow
from credits_app.services import sessions
from tests.support.factories import make_user


def test_a_session_token_finds_its_user_and_only_the_hash_is_stored(session, app_settings):
    user = make_user(session)
    token = sessions.start_session(session=session, user_id=user.id)
    stored = session.exec(select(AuthSession)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert sessions.user_for_token(session=session, token=token).email == user.email


def test_unknown_malformed_expired_and_revoked_tokens_find_nobody(session, app_settings):
    user = make_user(session)
    assert sessions.user_for_token(session=session, token="x" * 43) is None
    assert sessions.user_for_token(session=session, token="") is None
    assert sessions.user_for_token(session=session, token=None) is None
    expired = sessions.start_session(session=session, user_id=user.id, days=0)
    assert sessions.user_for_token(session=session, token=expired) is None
    token = sessions.start_session(session=session, user_id=user.id)
    sessions.end_session(session=session, token=token)
    assert sessions.user_for_token(session=session, token=token) is None
    other = sessions.start_session(session=session, user_id=user.id)
    assert sessions.user_for_token(session=session, token=other) is not None


def test_admins_come_from_the_flag_or_admin_emails(session, app_settings, monkeypatch):
    plain = make_user(session)
    flagged = make_user(session, is_admin=True)
    assert not sessions.is_admin(plain)
    assert sessions.is_admin(flagged)
    monkeypatch.setenv("ADMIN_EMAILS", f"someone@example.com, {plain.email.upper()}")
    from credits_app.settings import get_settings

    get_settings.cache_clear()
    assert sessions.is_admin(plain)


def test_expiry_is_in_the_future(session, app_settings):
    user = make_user(session)
    sessions.start_session(session=session, user_id=user.id)
    stored = session.exec(select(AuthSession)).one()
    expires = (
        stored.expires_at
        if stored.expires_at.tzinfo
        else stored.expires_at.replace(tzinfo=utcnow().tzinfo)
    )
    assert expires > utcnow() + timedelta(days=29)
