"""The admin user pages' handlers over the real websocket: nothing for anyone but an admin.

The 403 page is what a browser shows; the handlers must not read a user's data for a
non-admin however the events arrive (sent directly, with any payload), and must stop as soon
as an admin's rights are taken away. Each test drives the app's backend the way the
frontend does (tests/support/reflex_socket.py); a route's `[user_id]` travels in the router
data's `query`, as the frontend sends it.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import update

from credits_app.db import engine_for, session_scope
from credits_app.models import User
from credits_app.services.admin_grants import admin_grant
from credits_app.settings import get_settings
from tests.support.factories import make_user
from tests.support.reflex_socket import ReflexSocket, sqlite_backend

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """The app's backend alone (no frontend build) on a migrated SQLite file."""
    with sqlite_backend(tmp_path_factory.mktemp("security-admin-pages")) as url:
        yield url


def _engine():
    return engine_for(get_settings().database_url)


def _people():
    """An admin, and a customer with an admin grant in their ledger."""
    with session_scope(_engine()) as session:
        admin = make_user(session, email=f"root-{secrets.token_hex(4)}@example.com", is_admin=True)
        plain = make_user(session, email=f"plain-{secrets.token_hex(4)}@example.com")
        target = make_user(session, email=f"target-{secrets.token_hex(4)}@example.com")
        granted = admin_grant(
            session=session,
            admin_user_id=admin.id,
            user_id=target.id,
            amount=33,
            reason="secret reason",
            idempotency_key=secrets.token_hex(8),
        )
    return admin, plain, target, granted.entry_id


def _logged_in(url: str, email: str) -> ReflexSocket:
    from credits_app.state.auth import AuthState

    tab = ReflexSocket(url)
    tab.open("/login")
    tab.send(AuthState.login, until=("busy", False), form={"email": email, "password": PASSWORD})
    assert tab.var(AuthState, "user_email") == email
    return tab


def _user_page(user_id: int) -> str:
    return f"/admin/users/{user_id}?user_id={user_id}"


def _entry_page(entry_id: int) -> str:
    return f"/admin/entries/{entry_id}?entry_id={entry_id}"


def test_an_admin_tab_reads_the_user_and_the_trace(backend):
    from credits_app.state.admin_users import AdminEntryState, AdminUsersState, AdminUserState

    admin, _plain, target, entry_id = _people()
    tab = _logged_in(backend, admin.email)

    tab.open(_user_page(target.id))
    tab.send(AdminUsersState.search, form={"query": target.email})
    tab.open(_entry_page(entry_id))

    assert tab.var(AdminUserState, "user")["email"] == target.email
    assert tab.var(AdminUserState, "balance")["balance"] == "33"
    assert [row["reason"] for row in tab.var(AdminUserState, "ledger")] == ["secret reason"]
    assert [row["email"] for row in tab.var(AdminUsersState, "rows")] == [target.email]
    assert tab.var(AdminEntryState, "granted_email") == admin.email
    tab.close()


def test_a_non_admin_tab_is_sent_nothing_whatever_it_sends(backend):
    from credits_app.state.admin_users import AdminEntryState, AdminUsersState, AdminUserState

    _admin, plain, target, entry_id = _people()
    tab = _logged_in(backend, plain.email)

    tab.open(_user_page(target.id))
    tab.send(AdminUserState.load)
    tab.send(AdminUserState.ledger_older)
    tab.open("/admin/users")
    # A part of the address: the page echoes the search box, never what it found.
    tab.send(AdminUsersState.search, form={"query": target.email.split("@")[0]})
    tab.send(AdminUsersState.older)
    tab.open(_entry_page(entry_id))
    tab.send(AdminEntryState.load)

    sent = repr(tab.state)
    assert target.email not in sent
    assert "secret reason" not in sent
    assert tab.var(AdminUserState, "user") in (None, {})
    assert tab.var(AdminUsersState, "rows") in (None, [])
    assert tab.var(AdminEntryState, "facts") in (None, [])
    tab.close()


def test_an_admin_whose_rights_are_taken_away_reads_nothing_more(backend):
    from credits_app.state.admin_users import AdminUsersState, AdminUserState

    admin, _plain, target, _entry_id = _people()
    tab = _logged_in(backend, admin.email)
    tab.open(_user_page(target.id))
    tab.send(AdminUsersState.search, form={"query": target.email})
    assert tab.var(AdminUserState, "user")["email"] == target.email
    assert [row["email"] for row in tab.var(AdminUsersState, "rows")] == [target.email]
    with session_scope(_engine()) as session:
        session.exec(update(User).where(User.id == admin.id).values(is_admin=False))
        session.commit()

    # The next event re-checks the rights, without reloading the page.
    tab.send(AdminUsersState.search, form={"query": target.email})
    assert tab.var(AdminUsersState, "rows") == []
    tab.open(_user_page(target.id))
    assert tab.var(AdminUserState, "user") == {}
    assert tab.var(AdminUserState, "ledger") == []
    tab.close()
