"""Registration, email verification, password reset and change, throttles, revoke-sessions."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from credits_app.cli import main as cli
from credits_app.models import EmailToken, User, utcnow
from credits_app.services import password_changes, ratelimit, registration, sessions, throttle
from credits_app.services.errors import (
    EmailNotVerified,
    InvalidLink,
    InvalidRequest,
    RateLimited,
    Unauthorized,
)
from credits_app.services.users import authenticate
from credits_app.settings import get_settings
from tests.support.factories import DEFAULT_PASSWORD, make_user
from tests.support.throttle_windows import fresh_window

IP = "203.0.113.7"
NEW_PASSWORD = "a-brand-new-secret"


@pytest.fixture
def accounts(app_settings):
    """App settings on the test database, with fresh throttles."""
    ratelimit.limiter_for.cache_clear()
    yield app_settings
    ratelimit.limiter_for.cache_clear()


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _register(session, email: str, password: str = DEFAULT_PASSWORD):
    return registration.register(session=session, email=email, password=password, client_ip=IP)


def test_a_new_address_must_be_confirmed_before_logging_in(session, accounts):
    mail = _register(session, "ada@example.com")
    assert mail.subject == "Confirm your email address" and "/verify-email?token=" in mail.link

    with pytest.raises(EmailNotVerified):
        authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD)
    user = registration.verify_email(session=session, token=_token(mail.link))

    assert user.email_verified
    assert authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD)
    with pytest.raises(InvalidLink):
        registration.verify_email(session=session, token=_token(mail.link))


def test_a_confirmed_address_registered_again_gets_a_note_and_no_second_account(session, accounts):
    owner = make_user(session, email="ada@example.com")

    mail = _register(session, "ADA@example.com", "someone-elses-password")

    assert mail.subject == "You already have an account" and "/forgot-password" in mail.link
    assert len(session.exec(select(User)).all()) == 1
    assert authenticate(session=session, email=owner.email, password=DEFAULT_PASSWORD)


def test_whoever_confirms_an_unconfirmed_address_sets_its_password(session, accounts):
    _register(session, "ada@example.com", "squatters-password")
    mail = _register(session, "ada@example.com", "the-owners-password")
    first_link_used = session.exec(select(EmailToken).where(EmailToken.used_at.is_(None))).all()

    registration.verify_email(session=session, token=_token(mail.link))

    assert len(first_link_used) == 1  # the squatter's link was retired
    with pytest.raises(Unauthorized):
        authenticate(session=session, email="ada@example.com", password="squatters-password")
    assert authenticate(session=session, email="ada@example.com", password="the-owners-password")


def test_links_are_stored_only_as_their_sha256_and_expire(session, accounts, monkeypatch):
    mail = _register(session, "ada@example.com")
    token = _token(mail.link)
    stored = session.exec(select(EmailToken)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()

    from credits_app.services import email_tokens

    later = utcnow() + timedelta(hours=get_settings().email_verify_ttl_hours, minutes=1)
    monkeypatch.setattr(email_tokens, "utcnow", lambda: later)
    with pytest.raises(InvalidLink):
        registration.verify_email(session=session, token=token)


def test_a_reset_link_sets_the_password_once_and_ends_every_session(session, accounts):
    user = make_user(session, email="ada@example.com")
    phone = sessions.start_session(session=session, user_id=user.id)
    laptop = sessions.start_session(session=session, user_id=user.id)

    mail = password_changes.request_reset(session=session, email="ada@example.com", client_ip=IP)
    token = _token(mail.link)
    assert password_changes.reset_link_valid(session=session, token=token)
    password_changes.reset_password(session=session, token=token, password=NEW_PASSWORD)

    assert sessions.user_for_token(session=session, token=phone) is None
    assert sessions.user_for_token(session=session, token=laptop) is None
    assert authenticate(session=session, email="ada@example.com", password=NEW_PASSWORD)
    with pytest.raises(InvalidLink):
        password_changes.reset_password(session=session, token=token, password="yet-another-1")


def test_a_reset_for_an_unknown_address_answers_with_a_note(session, accounts):
    mail = password_changes.request_reset(session=session, email="bob@example.com", client_ip=IP)

    assert mail.to == "bob@example.com" and "/register" in mail.link
    assert session.exec(select(EmailToken)).all() == []


def test_a_weak_new_password_keeps_the_reset_link_usable(session, accounts):
    make_user(session, email="ada@example.com")
    mail = password_changes.request_reset(session=session, email="ada@example.com", client_ip=IP)

    with pytest.raises(InvalidRequest):
        password_changes.reset_password(session=session, token=_token(mail.link), password="x")
    assert password_changes.reset_link_valid(session=session, token=_token(mail.link))


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(session, accounts):
    user = make_user(session)
    here = sessions.start_session(session=session, user_id=user.id)
    there = sessions.start_session(session=session, user_id=user.id)

    with pytest.raises(Unauthorized):
        password_changes.change_password(
            session=session,
            user_id=user.id,
            current="not-the-password",
            new=NEW_PASSWORD,
            keep_token=here,
            client_ip=IP,
        )
    ended = password_changes.change_password(
        session=session,
        user_id=user.id,
        current=DEFAULT_PASSWORD,
        new=NEW_PASSWORD,
        keep_token=here,
        client_ip=IP,
    )

    assert ended == 1
    assert sessions.user_for_token(session=session, token=here) is not None
    assert sessions.user_for_token(session=session, token=there) is None
    assert authenticate(session=session, email=user.email, password=NEW_PASSWORD)


def test_mail_to_one_address_is_capped_silently(session, accounts):
    fresh_window(3600)
    sent = [_register(session, "ada@example.com") for _ in range(7)]

    assert [mail is not None for mail in sent].count(True) == 5  # ACCOUNT_MAILS_PER_ADDRESS_HOUR


def test_login_throttles_count_per_account_and_per_address(accounts):
    fresh_window()
    for _ in range(5):
        throttle.check_login(client_ip="198.51.100.1", email="ada@example.com")
    with pytest.raises(RateLimited) as locked:
        throttle.check_login(client_ip="198.51.100.2", email="ADA@example.com")
    throttle.check_login(client_ip="198.51.100.1", email="bob@example.com")

    assert 1 <= locked.value.retry_after <= 60


def test_throttles_are_shared_through_redis(accounts, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    fresh_window(3600)
    address = f"192.0.2.{uuid.uuid4().int % 250}-{uuid.uuid4().hex}"  # fresh keys in Redis
    for _ in range(10):
        throttle.check_registration(client_ip=address)
    ratelimit.limiter_for.cache_clear()  # as if another worker counted the next one

    with pytest.raises(RateLimited):
        throttle.check_registration(client_ip=address)


def test_revoke_sessions_logs_a_user_out_everywhere(session, accounts, capsys):
    user = make_user(session)
    tokens = [sessions.start_session(session=session, user_id=user.id) for _ in range(2)]

    assert cli(["revoke-sessions", user.email.upper()]) == 0
    assert capsys.readouterr().out.strip() == f"{user.email}: 2 sessions ended"
    assert cli(["revoke-sessions", "nobody@example.com"]) == 1

    assert "no user with email" in capsys.readouterr().err
    assert all(sessions.user_for_token(session=session, token=t) is None for t in tokens)
