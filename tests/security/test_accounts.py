"""The review's account attacks, replayed over the real websocket against the real backend.

Each test drives `AuthState` the way the reviewer did: a socket.io client on the app's
`/_event` endpoint sending events with any payload (tests/support/reflex_socket.py). Every
test here failed on the code the review looked at. The last ones keep what the review found
sound: tokens stored hashed, `?next=` never leaving the site, the session re-checked on every
event, no secret in the state a browser is sent.

Argon2 is counted, not timed: patching pwdlib's hasher counts every hash and verify, so "the
same work whether or not the account exists" is an exact assertion, not a flaky timing one.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import timedelta

import pytest
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, update

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import AuthSession, User, utcnow
from credits_app.services import ratelimit, sessions
from credits_app.services.admin_grants import require_admin
from credits_app.services.errors import Forbidden
from credits_app.settings import get_settings
from tests.support.factories import make_user
from tests.support.reflex_socket import ReflexSocket, sqlite_backend
from tests.support.throttle_windows import fresh_window

PASSWORD = "correct-horse-battery"
DONE = ("busy", False)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """The app's backend alone (no frontend build) on a migrated SQLite file."""
    with sqlite_backend(tmp_path_factory.mktemp("security-accounts")) as url:
        yield url


@pytest.fixture
def app_url(backend):
    """The backend's URL; every test starts with fresh throttles and default settings."""
    ratelimit.limiter_for.cache_clear()
    get_settings.cache_clear()
    yield backend
    ratelimit.limiter_for.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def argon2_calls(monkeypatch):
    """Count every Argon2 hash and verify; the list holds one entry per call."""
    calls: list[str] = []
    real_hash, real_verify = Argon2Hasher.hash, Argon2Hasher.verify

    def counted_hash(self, *args, **kwargs):
        calls.append("hash")
        return real_hash(self, *args, **kwargs)

    def counted_verify(self, *args, **kwargs):
        calls.append("verify")
        return real_verify(self, *args, **kwargs)

    monkeypatch.setattr(Argon2Hasher, "hash", counted_hash)
    monkeypatch.setattr(Argon2Hasher, "verify", counted_verify)
    return calls


def _user(email: str | None = None, **kwargs):
    with session_scope(engine_for(get_settings().database_url)) as session:
        return make_user(session, email=email, **kwargs)


def _email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def _tab(url: str, path: str, **headers: str) -> ReflexSocket:
    tab = ReflexSocket(url, headers=headers)
    tab.open(path)
    return tab


def _login(tab: ReflexSocket, email: str, password: object = PASSWORD) -> None:
    from credits_app.state.auth import AuthState

    tab.send(AuthState.login, until=DONE, form={"email": email, "password": password})


def _register(tab: ReflexSocket, email: str, password: str = PASSWORD) -> None:
    from credits_app.state.auth import AuthState

    form = {"email": email, "password": password, "confirm": password}
    tab.send(AuthState.register, until=DONE, form=form)


def _auth(tab: ReflexSocket, name: str):
    from credits_app.state.auth import AuthState

    return tab.var(AuthState, name)


def _live_sessions(user_id: int) -> list[AuthSession]:
    with read_session(engine_for(get_settings().database_url)) as session:
        query = select(AuthSession).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
        )
        return list(session.exec(query).scalars())


def test_registering_an_admin_email_grants_no_admin_rights(app_url, monkeypatch):
    monkeypatch.setenv("ADMIN_EMAILS", "boss@example.com")
    get_settings.cache_clear()
    tab = _tab(app_url, "/register")

    _register(tab, "boss@example.com")

    assert not _auth(tab, "is_admin")
    with read_session(engine_for(get_settings().database_url)) as session:
        user = session.exec(select(User).where(User.email == "boss@example.com")).scalar_one()
        with pytest.raises(Forbidden):
            require_admin(session=session, user_id=user.id)


def test_a_verified_user_on_admin_emails_is_still_no_admin(app_url, monkeypatch):
    user = _user(_email("listed"))
    monkeypatch.setenv("ADMIN_EMAILS", user.email)
    get_settings.cache_clear()
    tab = _tab(app_url, "/login")

    _login(tab, user.email)

    assert _auth(tab, "user_email") == user.email
    assert _auth(tab, "is_admin") is False


def test_thirty_wrong_passwords_lock_the_account_before_the_right_one(app_url, argon2_calls):
    user = _user(_email("victim"))
    tab = _tab(app_url, "/login")
    argon2_calls.clear()
    fresh_window()

    for _ in range(30):
        _login(tab, user.email, "wrong-password-123")
    hashes_while_guessing = len(argon2_calls)
    _login(tab, user.email)

    assert _auth(tab, "user_email") == ""
    assert "Too many attempts" in _auth(tab, "error")
    assert hashes_while_guessing == get_settings().login_attempts_per_account_minute
    assert len(argon2_calls) == hashes_while_guessing, "a throttled attempt reached the hash"
    assert _live_sessions(user.id) == []


def test_guessing_across_many_accounts_from_one_address_is_throttled(app_url, argon2_calls):
    tab = _tab(app_url, "/login")
    fresh_window()

    for index in range(40):
        _login(tab, f"target-{index}@example.com", "wrong-password-123")

    assert "Too many attempts" in _auth(tab, "error")
    assert len(argon2_calls) <= get_settings().login_attempts_per_ip_minute


def test_registrations_from_one_address_are_limited(app_url):
    tab = _tab(app_url, "/register")
    fresh_window(3600)

    for _ in range(get_settings().registrations_per_ip_hour + 1):
        _register(tab, _email("bulk"))

    assert "Too many" in _auth(tab, "error")


def test_at_most_the_configured_number_of_password_hashes_run_at_once(app_url, monkeypatch):
    running, peak, lock = [0], [0], threading.Lock()
    real_verify = Argon2Hasher.verify

    def slow_verify(self, *args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        try:
            return real_verify(self, *args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(Argon2Hasher, "verify", slow_verify)
    tabs = [_tab(app_url, "/login") for _ in range(6)]
    threads = [
        threading.Thread(target=_login, args=(tab, _email("crowd"), "wrong-password-123"))
        for tab in tabs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert 1 <= peak[0] <= get_settings().password_hash_concurrency


def test_registering_a_taken_email_answers_exactly_like_a_new_one(app_url, argon2_calls):
    taken = _user(_email("taken"))
    fresh = _email("fresh")
    answers = []
    for email in (taken.email, fresh):
        tab = _tab(app_url, "/register")
        before = len(argon2_calls)
        _register(tab, email)
        answers.append(
            (
                _auth(tab, "error"),
                _auth(tab, "notice").replace(email, "EMAIL"),
                tab.redirects,
                _auth(tab, "user_email"),
                len(argon2_calls) - before,
            )
        )

    assert answers[0] == answers[1]
    assert answers[0][1] != "" and answers[0][3] == ""


@pytest.mark.parametrize("password", [{"$ne": ""}, ["x"], 12345678, None])
def test_a_crafted_password_costs_the_same_for_known_and_unknown_emails(
    app_url, argon2_calls, password
):
    known = _user(_email("known"))
    outcomes = []
    for email in (known.email, _email("nobody")):
        tab = _tab(app_url, "/login")
        before = len(argon2_calls)
        _login(tab, email, password)
        outcomes.append((_auth(tab, "error"), _auth(tab, "user_email"), len(argon2_calls) - before))

    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] == ""


def test_a_wrong_password_costs_one_hash_whether_or_not_the_account_exists(app_url, argon2_calls):
    known = _user(_email("known"))
    costs = []
    for email in (known.email, _email("nobody")):
        tab = _tab(app_url, "/login")
        before = len(argon2_calls)
        _login(tab, email, "wrong-password-123")
        costs.append((_auth(tab, "error"), len(argon2_calls) - before))

    assert costs[0] == costs[1] == (costs[0][0], 1)


def test_a_session_left_idle_stops_working(app_url, monkeypatch):
    user = _user(_email("idle"))
    tab = _tab(app_url, "/login")
    _login(tab, user.email)
    assert _auth(tab, "user_email") == user.email

    later = utcnow() + timedelta(minutes=get_settings().session_idle_timeout_minutes + 1)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    tab.open("/dashboard")

    assert _auth(tab, "user_email") == ""
    assert tab.redirects[-1].startswith("/login")


def test_a_session_ends_at_its_absolute_lifetime_however_active(app_url):
    user = _user(_email("old"))
    tab = _tab(app_url, "/login")
    _login(tab, user.email)
    with session_scope(engine_for(get_settings().database_url)) as session:
        session.exec(
            update(AuthSession)
            .where(AuthSession.user_id == user.id)
            .values(created_at=utcnow() - timedelta(days=get_settings().session_lifetime_days))
        )
        session.commit()

    tab.open("/dashboard")

    assert _auth(tab, "user_email") == ""


def test_other_sessions_can_be_seen_and_ended_from_the_account_page(app_url):
    from credits_app.state.account import AccountState

    user = _user(_email("sessions"))
    phone = _tab(app_url, "/login", **{"User-Agent": "Phone/1.0"})
    _login(phone, user.email)
    laptop = _tab(app_url, "/login", **{"User-Agent": "Laptop/2.0"})
    _login(laptop, user.email)

    laptop.open("/account")
    listed = laptop.var(AccountState, "session_rows")
    assert {row["user_agent"] for row in listed} == {"Phone/1.0", "Laptop/2.0"}
    assert [row["current"] for row in listed if row["user_agent"] == "Laptop/2.0"] == [True]
    laptop.send(AccountState.end_other_sessions)

    phone.open("/dashboard")
    assert _auth(phone, "user_email") == ""
    assert len(_live_sessions(user.id)) == 1


def test_a_password_change_needs_the_current_password_and_ends_the_other_sessions(app_url):
    from credits_app.state.account import AccountState

    user = _user(_email("change"))
    phone = _tab(app_url, "/login")
    _login(phone, user.email)
    laptop = _tab(app_url, "/login")
    _login(laptop, user.email)
    laptop.open("/account")
    new = "a-brand-new-secret"
    form = {"current_password": "not-my-password", "new_password": new, "confirm_password": new}

    laptop.send(AccountState.change_password, until=DONE, form=form)
    assert laptop.var(AccountState, "password_error") == "The current password is wrong."
    laptop.send(
        AccountState.change_password, until=DONE, form={**form, "current_password": PASSWORD}
    )

    assert "1 other session was logged out" in laptop.var(AccountState, "password_notice")
    phone.open("/dashboard")
    assert _auth(phone, "user_email") == ""
    assert len(_live_sessions(user.id)) == 1


def test_opening_the_logout_page_does_not_log_out(app_url):
    user = _user(_email("stays"))
    tab = _tab(app_url, "/login")
    _login(tab, user.email)

    tab.open("/logout")  # what <img src="/logout"> or a link on any page makes a browser do

    assert _auth(tab, "user_email") == user.email
    assert len(_live_sessions(user.id)) == 1


def test_session_tokens_are_stored_only_as_their_sha256(app_url):
    user = _user(_email("hashed"))
    tab = _tab(app_url, "/login")
    _login(tab, user.email)

    token = _auth(tab, "session_token")
    (stored,) = _live_sessions(user.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example"])
def test_next_never_leads_off_the_site(app_url, target):
    user = _user(_email("next"))
    tab = _tab(app_url, f"/login?next={target}")

    _login(tab, user.email)

    assert tab.redirects[-1] == "/dashboard"


def test_every_event_rechecks_the_session(app_url):
    from credits_app.state.dashboard import DashboardState

    user = _user(_email("revoked"), credits=5)
    tab = _tab(app_url, "/login")
    _login(tab, user.email)
    tab.open("/dashboard")
    with session_scope(engine_for(get_settings().database_url)) as session:
        session.exec(
            update(AuthSession).where(AuthSession.user_id == user.id).values(revoked_at=utcnow())
        )
        session.commit()

    tab.send(DashboardState.export_csv)

    assert _auth(tab, "user_email") == ""
    assert tab.redirects[-1].startswith("/login")


def test_no_password_or_user_id_reaches_the_browser(app_url):
    user = _user(_email("private"))
    tab = _tab(app_url, "/login")
    _login(tab, user.email)
    tab.open("/dashboard")

    sent = repr(tab.state)
    assert PASSWORD not in sent
    assert "_user_id" not in sent
    with read_session(engine_for(get_settings().database_url)) as session:
        stored = session.exec(select(User.password_hash).where(User.id == user.id)).scalar_one()
    assert stored not in sent
