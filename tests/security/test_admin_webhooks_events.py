"""The webhook log's page events check admin rights on the server, at every event.

A page hides its admin body from non-admins, but anyone with a session can send the page's
events over the websocket with any payload. These tests do exactly that, against the app's
real backend, and check that nothing is listed and nothing is re-applied.
"""

from __future__ import annotations

import json
import secrets

import pytest
from sqlmodel import select, update

from credits_app.db import engine_for, session_scope
from credits_app.models import User, WebhookDelivery, utcnow
from credits_app.services.billing.webhook_log import record_delivery
from credits_app.settings import get_settings
from tests.support.factories import DEFAULT_PASSWORD, make_user
from tests.support.reflex_socket import ReflexSocket, sqlite_backend

DONE = ("busy", False)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """The app's backend alone (no frontend build) on a migrated SQLite file."""
    with sqlite_backend(tmp_path_factory.mktemp("security-webhooks")) as url:
        yield url


def _engine():
    return engine_for(get_settings().database_url)


def _user(**kwargs):
    with session_scope(_engine()) as session:
        return make_user(session, email=f"u-{secrets.token_hex(4)}@example.com", **kwargs)


def _failed_delivery() -> int:
    """A failed delivery that re-applying would grant 100 credits for, were it allowed."""
    buyer = _user()
    event = {
        "id": f"evt_{secrets.token_hex(12)}",
        "type": "checkout.session.completed",
        "created": 1_780_000_000,
        "data": {
            "object": {
                "id": f"cs_test_{secrets.token_hex(6)}",
                "mode": "payment",
                "payment_status": "paid",
                "amount_subtotal": 500,
                "amount_total": 500,
                "currency": "usd",
                "metadata": {"user_id": str(buyer.id), "price_id": "price_missing"},
            }
        },
    }
    with session_scope(_engine()) as session:
        return record_delivery(
            session=session,
            event=event,
            outcome="failed",
            received_at=utcnow(),
            duration_ms=3,
            error="price price_missing has no credits",
            payload=json.dumps(event),
        )


def _logged_in_tab(url: str, email: str) -> ReflexSocket:
    from credits_app.state.auth import AuthState

    tab = ReflexSocket(url)
    tab.open("/login")
    tab.send(AuthState.login, until=DONE, form={"email": email, "password": DEFAULT_PASSWORD})
    return tab


def _log() -> list[tuple[int, str]]:
    with session_scope(_engine()) as session:
        rows = session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        return [(row.id, row.outcome) for row in rows]


def test_a_non_admin_sending_the_page_events_sees_and_reapplies_nothing(backend):
    from credits_app.state.admin_webhooks import AdminWebhooksState

    failed = _failed_delivery()
    before = _log()
    plain = _user()
    tab = _logged_in_tab(backend, plain.email)

    tab.open("/admin/webhooks")
    tab.send(AdminWebhooksState.apply_filters, form={"outcome": "failed"})
    tab.send(AdminWebhooksState.older)
    tab.send(AdminWebhooksState.reapply, delivery_id=str(failed))

    assert tab.var(AdminWebhooksState, "rows") in (None, [])
    assert tab.var(AdminWebhooksState, "message") in (None, "")
    assert _log() == before


def test_an_admin_whose_rights_are_taken_away_is_refused_at_the_next_event(backend):
    from credits_app.state.admin_webhooks import AdminWebhooksState

    failed = _failed_delivery()
    admin = _user(is_admin=True)
    tab = _logged_in_tab(backend, admin.email)
    tab.open("/admin/webhooks")
    tab.send(AdminWebhooksState.apply_filters, form={"outcome": "failed"})
    listed = [row["id"] for row in tab.var(AdminWebhooksState, "rows")]
    before = _log()
    with session_scope(_engine()) as session:
        session.exec(update(User).where(User.id == admin.id).values(is_admin=False))
        session.commit()

    tab.send(AdminWebhooksState.reapply, delivery_id=str(failed))

    assert str(failed) in listed
    assert tab.var(AdminWebhooksState, "rows") == []
    assert _log() == before
