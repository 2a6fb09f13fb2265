"""POST /api/credits/grant: admin key in constant time, disabled without a key, idempotent."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from credits_app.models import LedgerEntry
from credits_app.settings import get_settings
from tests.api.conftest import admin, assert_error, bearer, key

GRANT = "/api/credits/grant"


def grant_body(user_id: int, amount=25, reason="support credit", idempotency_key=None) -> dict:
    return {
        "userId": user_id,
        "amount": amount,
        "reason": reason,
        "idempotencyKey": idempotency_key or key(),
    }


def test_an_admin_grant_adds_credits_with_source_admin_api(client, user, engine, ledger_ok):
    response = client.post(GRANT, json=grant_body(user.id), headers=admin())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["balance"] == 125 and body["replayed"] is False
    with Session(engine) as session:
        entry = session.get(LedgerEntry, body["entryId"])
    assert (entry.kind, entry.source, entry.reason, entry.user_id) == (
        "grant",
        "admin_api",
        "support credit",
        user.id,
    )
    ledger_ok()


def test_a_repeated_grant_is_replayed_and_a_changed_one_conflicts(client, user, ledger_ok):
    body = grant_body(user.id, idempotency_key=key())
    client.post(GRANT, json=body, headers=admin())

    again = client.post(GRANT, json=body, headers=admin())
    changed = client.post(GRANT, json={**body, "reason": "other"}, headers=admin())

    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["balance"] == 125
    assert assert_error(changed, 409, "idempotency_conflict")["fields"] == ["reason"]
    ledger_ok()


@pytest.mark.parametrize(
    "headers",
    [{}, admin("wrong-key-0123456789abcdef"), admin(""), admin("test-admin-key")],
    ids=["missing", "wrong", "empty", "prefix"],
)
def test_a_missing_or_wrong_admin_key_is_401(client, user, headers, engine):
    response = client.post(GRANT, json=grant_body(user.id), headers=headers)

    assert_error(response, 401, "unauthorized")
    with Session(engine) as session:
        grants = session.exec(select(LedgerEntry).where(LedgerEntry.source == "admin_api"))
        assert grants.all() == []


def test_a_user_token_cannot_grant(client, user):
    response = client.post(GRANT, json=grant_body(user.id), headers=bearer(user.id))

    assert_error(response, 401, "unauthorized")


def test_without_admin_api_key_the_admin_api_is_disabled(client, user, monkeypatch):
    monkeypatch.delenv("ADMIN_API_KEY")
    get_settings.cache_clear()

    response = client.post(GRANT, json=grant_body(user.id), headers=admin())

    error = assert_error(response, 503, "unavailable")
    assert "admin API disabled" in error["message"]


def test_granting_to_an_unknown_user_is_404(client, user, ledger_ok):
    response = client.post(GRANT, json=grant_body(user.id + 999), headers=admin())

    assert_error(response, 404, "not_found")
    ledger_ok()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # "1" is a user id (tests/security/test_original_commands.py); these are not.
        ({"userId": "user-id"}, "userId"),
        ({"userId": " 1"}, "userId"),
        ({"userId": 1.0}, "userId"),
        ({"userId": 0}, "userId"),
        ({"amount": "25"}, "amount"),
        ({"amount": 25.0}, "amount"),
        ({"amount": False}, "amount"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 256}, "reason"),
        ({"reason": None}, "reason"),
    ],
)
def test_a_malformed_grant_names_the_field(client, user, change, field):
    response = client.post(GRANT, json={**grant_body(user.id), **change}, headers=admin())

    assert assert_error(response, 422, "invalid_request")["field"] == field
