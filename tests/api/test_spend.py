"""POST /api/credits/spend: the ledger's semantics over HTTP, strict input, token binding."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from credits_app.models import UsageEvent
from tests.api.conftest import FEATURE, assert_error, bearer, key, spend_body

SPEND = "/api/credits/spend"


def test_a_spend_takes_credits_and_records_usage(client, user, engine, ledger_ok):
    response = client.post(SPEND, json=spend_body(30), headers=bearer(user.id))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["balance"] == 70 and body["available"] == 70 and body["replayed"] is False
    assert isinstance(body["entryId"], int)
    with Session(engine) as session:
        usage = session.exec(select(UsageEvent).where(UsageEvent.user_id == user.id)).all()
    assert [(u.feature, u.credits, u.entry_id) for u in usage] == [(FEATURE, 30, body["entryId"])]
    ledger_ok()


def test_a_retry_with_the_same_key_replays_without_spending_again(client, user, ledger_ok):
    body = spend_body(10)
    first = client.post(SPEND, json=body, headers=bearer(user.id)).json()

    again = client.post(SPEND, json=body, headers=bearer(user.id))

    assert again.status_code == 200
    assert again.json() == {**first, "replayed": True}
    assert again.json()["balance"] == 90
    ledger_ok()


def test_the_same_key_with_another_amount_is_a_conflict_naming_the_field(client, user, ledger_ok):
    idem = key()
    client.post(SPEND, json=spend_body(10, idempotency_key=idem), headers=bearer(user.id))

    response = client.post(
        SPEND, json=spend_body(11, idempotency_key=idem), headers=bearer(user.id)
    )

    error = assert_error(response, 409, "idempotency_conflict")
    assert error["fields"] == ["amount"]
    ledger_ok()


def test_spending_more_than_the_balance_is_402_with_balance_and_required(client, user, ledger_ok):
    response = client.post(SPEND, json=spend_body(101), headers=bearer(user.id))

    error = assert_error(response, 402, "insufficient_credits")
    assert (error["balance"], error["required"]) == (100, 101)
    ledger_ok()


def test_the_body_feature_must_equal_the_tokens(client, user, ledger_ok):
    response = client.post(SPEND, json=spend_body(5, feature="other"), headers=bearer(user.id))

    assert_error(response, 403, "forbidden")
    entitlements = client.get("/api/me/entitlements", headers=bearer(user.id)).json()
    assert entitlements["balance"] == 100
    ledger_ok()


@pytest.mark.parametrize(
    "amount",
    ["10", True, 1.0, 10.5, 0, -1, 10**9 + 1, None, [10], {"n": 10}, "1e1"],
    ids=repr,
)
def test_amounts_must_be_json_integers_in_range(client, user, amount, ledger_ok):
    response = client.post(SPEND, json=spend_body(amount), headers=bearer(user.id))

    error = assert_error(response, 422, "invalid_request")
    assert error["field"] == "amount" and error["message"].startswith("amount: ")
    assert client.get("/api/me/entitlements", headers=bearer(user.id)).json()["balance"] == 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"feature": FEATURE, "idempotencyKey": "k"}, "amount"),
        ({"amount": 1, "idempotencyKey": "k"}, "feature"),
        ({"amount": 1, "feature": FEATURE}, "idempotencyKey"),
        ({"amount": 1, "feature": FEATURE, "idempotencyKey": ""}, "idempotencyKey"),
        ({"amount": 1, "feature": FEATURE, "idempotencyKey": "   "}, "idempotencyKey"),
        ({"amount": 1, "feature": FEATURE, "idempotencyKey": "a\nb"}, "idempotencyKey"),
        ({"amount": 1, "feature": FEATURE, "idempotencyKey": "x" * 256}, "idempotencyKey"),
        ({"amount": 1, "feature": FEATURE, "idempotencyKey": 7}, "idempotencyKey"),
        ({"amount": 1, "feature": "bad feature!", "idempotencyKey": "k"}, "feature"),
        ({"amount": 1, "feature": FEATURE, "idempotency_key": "k"}, "idempotencyKey"),
    ],
)
def test_missing_or_malformed_fields_are_named(client, user, body, field):
    response = client.post(SPEND, json=body, headers=bearer(user.id))

    assert assert_error(response, 422, "invalid_request")["field"] == field


def test_extra_fields_are_ignored_never_obeyed(client, user, other_user, ledger_ok):
    body = {**spend_body(10), "userId": other_user.id, "balance": 10**6, "replayed": True}

    response = client.post(SPEND, json=body, headers=bearer(user.id))

    assert response.status_code == 200
    assert response.json()["balance"] == 90 and response.json()["replayed"] is False
    theirs = client.get("/api/me/entitlements", headers=bearer(other_user.id)).json()
    assert theirs["balance"] == 50
    ledger_ok()


def test_a_token_of_user_a_only_ever_spends_as_a(client, user, other_user, ledger_ok):
    idem = key()
    client.post(SPEND, json=spend_body(5, idempotency_key=idem), headers=bearer(other_user.id))

    # The same key under A's token is A's own key: it spends A's credits, never B's.
    response = client.post(SPEND, json=spend_body(5, idempotency_key=idem), headers=bearer(user.id))

    assert response.status_code == 200 and response.json()["replayed"] is False
    assert response.json()["balance"] == 95
    theirs = client.get("/api/me/entitlements", headers=bearer(other_user.id)).json()
    assert theirs["balance"] == 45
    ledger_ok()


def test_a_token_for_a_user_that_does_not_exist_is_404(client, user):
    response = client.post(SPEND, json=spend_body(1), headers=bearer(user.id + 999))

    assert_error(response, 404, "not_found")
