"""Login sessions: only the token's hash is stored; logout, idle time and lifetime end one."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlmodel import select

from credits_app.models import AuthSession, utcnow
from credits_app.services import sessions
from credits_app.settings import get_settings
from tests.support.factories import make_user


def test_a_session_token_finds_its_user_and_only_the_hash_is_stored(session, app_settings):
    user = make_user(session)
    token = sessions.start_session(session=session, user_id=user.id, user_agent="Firefox/140")
    stored = session.exec(select(AuthSession)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert stored.user_agent == "Firefox/140"
    assert sessions.user_for_token(session=session, token=token).email == user.email


def test_unknown_malformed_and_revoked_tokens_find_nobody(session, app_settings):
    user = make_user(session)
    assert sessions.user_for_token(session=session, token="x" * 43) is None
    assert sessions.user_for_token(session=session, token="") is None
    assert sessions.user_for_token(session=session, token=None) is None
    token = sessions.start_session(session=session, user_id=user.id)
    sessions.end_session(session=session, token=token)
    assert sessions.user_for_token(session=session, token=token) is None
    other = sessions.start_session(session=session, user_id=user.id)
    assert sessions.user_for_token(session=session, token=other) is not None


def test_a_session_ends_when_idle_and_at_its_lifetime(session, app_settings, monkeypatch):
    user = make_user(session)
    token = sessions.start_session(session=session, user_id=user.id)
    idle = timedelta(minutes=get_settings().session_idle_timeout_minutes)
    start = utcnow()

    monkeypatch.setattr(sessions, "utcnow", lambda: start + idle - timedelta(minutes=1))
    live = sessions.resolve_token(session=session, token=token)
    assert live is not None and live.touch_due
    sessions.touch_session(session=session, session_id=live.id)
    monkeypatch.setattr(sessions, "utcnow", lambda: start + idle + timedelta(minutes=1))
    assert sessions.resolve_token(session=session, token=token) is not None  # it was touched

    monkeypatch.setattr(sessions, "utcnow", lambda: start + 2 * idle + timedelta(minutes=1))
    assert sessions.resolve_token(session=session, token=token) is None

    fresh = sessions.start_session(session=session, user_id=user.id)
    lifetime = timedelta(days=get_settings().session_lifetime_days)
    monkeypatch.setattr(sessions, "utcnow", lambda: utcnow() + lifetime)
    assert sessions.resolve_token(session=session, token=fresh) is None


def test_activity_is_written_at_most_once_a_minute(session, app_settings, monkeypatch):
    user = make_user(session)
    token = sessions.start_session(session=session, user_id=user.id)
    live = sessions.resolve_token(session=session, token=token)
    assert not live.touch_due

    sessions.touch_session(session=session, session_id=live.id)
    assert sessions.resolve_token(session=session, token=token).last_seen_at == live.last_seen_at

    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    sessions.touch_session(session=session, session_id=live.id)
    assert sessions.resolve_token(session=session, token=token).last_seen_at == later


def test_a_user_lists_and_ends_their_own_sessions_only(session, app_settings):
    user, other = make_user(session), make_user(session)
    here = sessions.start_session(session=session, user_id=user.id, user_agent="Laptop")
    sessions.start_session(session=session, user_id=user.id, user_agent="Phone")
    theirs = sessions.start_session(session=session, user_id=other.id)

    listed = sessions.list_sessions(session=session, user_id=user.id, current_token=here)
    assert sorted((s.user_agent, s.current) for s in listed) == [
        ("Laptop", True),
        ("Phone", False),
    ]
    their_id = sessions.resolve_token(session=session, token=theirs).id
    assert not sessions.end_user_session(session=session, user_id=user.id, session_id=their_id)
    assert sessions.user_for_token(session=session, token=theirs) is not None

    assert sessions.end_other_sessions(session=session, user_id=user.id, keep_token=here) == 1
    assert [s.user_agent for s in sessions.list_sessions(session=session, user_id=user.id)] == [
        "Laptop"
    ]
    assert sessions.end_all_sessions(session=session, user_id=user.id) == 1
    assert sessions.user_for_token(session=session, token=here) is None


def test_admin_rights_come_only_from_the_stored_flag(session, app_settings, monkeypatch):
    plain = make_user(session)
    flagged = make_user(session, is_admin=True)
    monkeypatch.setenv("ADMIN_EMAILS", f"someone@example.com, {plain.email.upper()}")
    get_settings.cache_clear()

    assert not sessions.is_admin(plain)
    assert sessions.is_admin(flagged)


def test_admin_emails_is_ignored_with_one_warning(monkeypatch, caplog):
    from credits_app import settings

    settings._warn_once.cache_clear()
    monkeypatch.setenv("ADMIN_EMAILS", "boss@example.com")
    settings.load_settings()
    settings.load_settings()

    warnings = [r.message for r in caplog.records if "ADMIN_EMAILS" in r.getMessage()]
    assert len(warnings) == 1
    assert "make-admin EMAIL" in warnings[0]
