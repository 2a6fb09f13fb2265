"""The hold endpoints over HTTP: bodies, responses, the error contract, ownership."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from credits_app.models import utcnow
from credits_app.services.holds import reserve
from credits_app.services.invariants import check_ledger
from tests.api.conftest import assert_error, bearer, key
from tests.support.factories import make_user

RESERVE = "/api/credits/reserve"


def _reserve(client, user_id, amount=30, **extra):
    body = {"amount": amount, "feature": "example-ai", "idempotencyKey": key(), **extra}
    return client.post(RESERVE, json=body, headers=bearer(user_id))


def _settle(client, user_id, hold_id, how, feature="example-ai", **body):
    body.setdefault("idempotencyKey", key())
    url = f"/api/credits/holds/{hold_id}/{how}"
    return client.post(url, json=body, headers=bearer(user_id, feature))


@pytest.fixture
def user(session):
    return make_user(session, credits=100)


def test_reserve_then_capture_over_http(client, user, engine):
    reserved = _reserve(client, user.id, 30, ttlSeconds=120)
    assert reserved.status_code == 200, reserved.text
    body = reserved.json()
    assert (body["reserved"], body["available"], body["balance"]) == (30, 70, 100)
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert utcnow() + timedelta(seconds=100) < expires <= utcnow() + timedelta(seconds=121)

    captured = _settle(client, user.id, body["holdId"], "capture", amount=12)

    assert captured.status_code == 200, captured.text
    done = captured.json()
    assert (done["status"], done["captured"], done["released"]) == ("captured", 12, 18)
    assert (done["balance"], done["available"]) == (88, 88)
    with Session(engine) as session:
        assert check_ledger(session=session) == []


def test_release_and_replay_over_http(client, user):
    hold_id = _reserve(client, user.id, 30).json()["holdId"]
    idem = key()

    first = _settle(client, user.id, hold_id, "release", idempotencyKey=idem)
    again = _settle(client, user.id, hold_id, "release", idempotencyKey=idem)

    assert first.status_code == again.status_code == 200
    assert first.json()["available"] == 100
    assert again.json() == {**first.json(), "replayed": True}


def test_reserve_replays_with_the_same_key(client, user):
    body = {"amount": 10, "feature": "example-ai", "idempotencyKey": key()}
    first = client.post(RESERVE, json=body, headers=bearer(user.id)).json()

    again = client.post(RESERVE, json=body, headers=bearer(user.id))

    assert again.json() == {**first, "replayed": True}
    conflict = client.post(RESERVE, json={**body, "amount": 11}, headers=bearer(user.id))
    assert assert_error(conflict, 409, "idempotency_conflict")["fields"] == ["amount"]


def test_misuse_errors_have_their_own_codes(client, user, session):
    hold_id = _reserve(client, user.id, 30).json()["holdId"]

    too_much = _settle(client, user.id, hold_id, "capture", amount=31)
    assert assert_error(too_much, 422, "amount_exceeds_hold")["reserved"] == 30
    assert _settle(client, user.id, hold_id, "capture", amount=30).status_code == 200
    twice = _settle(client, user.id, hold_id, "capture", amount=1)
    assert assert_error(twice, 409, "hold_not_active")["status"] == "captured"
    after = _settle(client, user.id, hold_id, "release")
    assert assert_error(after, 409, "hold_not_active")["status"] == "captured"

    old = reserve(
        session=session,
        user_id=user.id,
        amount=5,
        feature="example-ai",
        idempotency_key="old",
        ttl_seconds=1,
        now=utcnow() - timedelta(minutes=1),
    )
    expired = _settle(client, user.id, old.hold_id, "capture", amount=1)
    assert assert_error(expired, 410, "hold_expired")["holdId"] == old.hold_id


def test_reserve_errors(client, user):
    assert_error(_reserve(client, user.id, 101), 402, "insufficient_credits")
    assert_error(_reserve(client, user.id, "10"), 422, "invalid_request")
    assert_error(_reserve(client, user.id, 10, ttlSeconds=0), 422, "invalid_request")
    other_feature = _reserve(client, user.id, 10, feature="other")
    assert_error(other_feature, 403, "forbidden")
    no_token = client.post(RESERVE, json={"amount": 1, "feature": "example-ai"})
    assert_error(no_token, 401, "unauthorized")


def test_a_user_cannot_touch_another_users_hold(client, user, session):
    intruder = make_user(session, credits=10)
    hold_id = _reserve(client, user.id, 30).json()["holdId"]

    for how, extra in (("capture", {"amount": 1}), ("release", {})):
        response = _settle(client, intruder.id, hold_id, how, **extra)
        assert_error(response, 404, "not_found")
    assert_error(_settle(client, user.id, 2**31 - 1, "release"), 404, "not_found")
    assert_error(_settle(client, user.id, 2**40, "release"), 422, "invalid_request")
    assert_error(_settle(client, user.id, "abc", "release"), 422, "invalid_request")
    assert _settle(client, user.id, hold_id, "release").json()["available"] == 100


def test_a_token_for_another_feature_cannot_settle_the_hold(client, user):
    hold_id = _reserve(client, user.id, 30).json()["holdId"]

    for how, extra in (("capture", {"amount": 30}), ("release", {})):
        response = _settle(client, user.id, hold_id, how, feature="other-feature", **extra)
        assert_error(response, 403, "forbidden")
    captured = _settle(client, user.id, hold_id, "capture", amount=5)
    assert captured.json()["balance"] == 95


def test_use_credits_runs_the_metered_example(client, user):
    body = {"prompt": "I love this product. Setup was easy and fast.", "idempotencyKey": key()}

    first = client.post("/api/example/use-credits", json=body, headers=bearer(user.id))
    again = client.post("/api/example/use-credits", json=body, headers=bearer(user.id))

    assert first.status_code == 200, first.text
    result = first.json()
    assert "Sentiment: positive" in result["result"]
    assert 1 <= result["cost"] <= result["estimate"]
    assert result["balance"] == 100 - result["cost"]
    assert again.json() == {**result, "replayed": True}
    wrong = client.post("/api/example/use-credits", json=body, headers=bearer(user.id, "other"))
    assert_error(wrong, 403, "forbidden")
    empty = client.post(
        "/api/example/use-credits", json={**body, "prompt": "  "}, headers=bearer(user.id)
    )
    assert_error(empty, 422, "invalid_request")


def test_use_credits_can_stream_server_sent_events(client, user):
    body = {"prompt": "Support was slow and unhelpful.", "idempotencyKey": key()}
    headers = {**bearer(user.id), "Accept": "text/event-stream"}

    response = client.post("/api/example/use-credits", json=body, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in response.text.split("\n\n") if b]
    kinds = [b.split("\n")[0].removeprefix("event: ") for b in blocks]
    assert kinds[0] == "reserved" and kinds[-1] == "finished" and "chunk" in kinds
    finished = json.loads(blocks[-1].split("data: ", 1)[1])
    assert "Sentiment: negative" in finished["result"]
    assert finished["balance"] == 100 - finished["cost"]
    broke = client.post(
        "/api/example/use-credits",
        json={"prompt": "x " * 9000, "idempotencyKey": key()},
        headers=headers,
    )
    assert_error(broke, 402, "insufficient_credits")
