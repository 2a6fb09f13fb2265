"""GET /metrics: spends, 402s, holds and webhook deliveries by outcome, from real requests.

The counters live for the whole test process, so each test compares two scrapes.
"""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session

from credits_app.observability import metrics
from credits_app.services.tokens import generate_access_token
from credits_app.settings import get_settings
from tests.ops.support import event, samples, signed, value
from tests.support.factories import make_user

FEATURE = "ops-test"
SPEND = "/api/credits/spend"


def _bearer(user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {generate_access_token(user_id, FEATURE)}"}


def _spend(client, user_id: int, amount: int, key: str) -> int:
    body = {"amount": amount, "feature": FEATURE, "idempotencyKey": key}
    return client.post(SPEND, json=body, headers=_bearer(user_id)).status_code


def _scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def _grew(before: str, after: str, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_spends_are_counted_by_outcome(client, engine):
    with Session(engine) as session:
        user = make_user(session, credits=10).id
    before = _scrape(client)

    statuses = [
        _spend(client, user, 4, "a"),  # ok
        _spend(client, user, 4, "a"),  # replay
        _spend(client, user, 5, "a"),  # conflict: same key, other amount
        _spend(client, user, 7, "b"),  # insufficient: 6 left
        _spend(client, user, 6, "c"),  # ok
    ]
    after = _scrape(client)

    assert statuses == [200, 200, 409, 402, 200]
    spends = {
        o: _grew(before, after, "credits_spends_total", outcome=o)
        for o in ("ok", "replay", "conflict", "insufficient", "error")
    }
    assert spends == {"ok": 2, "replay": 1, "conflict": 1, "insufficient": 1, "error": 0}
    assert _grew(before, after, "credits_insufficient_credits_total", route=SPEND) == 1
    http = {
        status: _grew(
            before, after, "credits_http_responses_total", method="POST", route=SPEND, status=status
        )
        for status in ("200", "402", "409")
    }
    assert http == {"200": 3, "402": 1, "409": 1}
    assert _grew(before, after, "credits_http_request_duration_seconds_count", route=SPEND) == 5


def test_holds_are_counted_and_active_holds_read_from_the_database(client, engine):
    with Session(engine) as session:
        user = make_user(session, credits=50).id
    headers = _bearer(user)
    before = _scrape(client)

    first = client.post(
        "/api/credits/reserve",
        json={"amount": 20, "feature": FEATURE, "idempotencyKey": "r1"},
        headers=headers,
    )
    second = client.post(
        "/api/credits/reserve",
        json={"amount": 15, "feature": FEATURE, "idempotencyKey": "r2"},
        headers=headers,
    )
    too_much = client.post(
        "/api/credits/reserve",
        json={"amount": 16, "feature": FEATURE, "idempotencyKey": "r3"},
        headers=headers,
    )
    during = _scrape(client)
    hold = first.json()["holdId"]
    captured = client.post(
        f"/api/credits/holds/{hold}/capture",
        json={"amount": 12, "idempotencyKey": "c1"},
        headers=headers,
    )
    again = client.post(
        f"/api/credits/holds/{hold}/release", json={"idempotencyKey": "x1"}, headers=headers
    )
    after = _scrape(client)

    assert [first.status_code, second.status_code, too_much.status_code] == [200, 200, 402]
    assert [captured.status_code, again.status_code] == [200, 409]
    assert value(during, "credits_active_holds") == 2
    assert value(during, "credits_held_credits") == 35
    assert value(after, "credits_active_holds") == 1
    assert value(after, "credits_held_credits") == 15
    assert value(after, "credits_overdue_holds") == 0
    assert value(after, "credits_database_up") == 1
    counted = {
        (action, outcome): _grew(
            before, after, "credits_holds_total", action=action, outcome=outcome
        )
        for action, outcome in [
            ("reserve", "ok"),
            ("reserve", "insufficient"),
            ("capture", "ok"),
            ("release", "not_active"),
        ]
    }
    assert counted == {
        ("reserve", "ok"): 2,
        ("reserve", "insufficient"): 1,
        ("capture", "ok"): 1,
        ("release", "not_active"): 1,
    }
    assert (
        _grew(before, after, "credits_insufficient_credits_total", route="/api/credits/reserve")
        == 1
    )


def test_webhook_deliveries_are_counted_by_outcome(client, engine, simulated_stripe):
    with Session(engine) as session:
        user = make_user(session).id
    hook = "/api/webhooks/stripe"
    unused = event("customer.created", {"id": "cus_ops1", "object": "customer"})
    # Our Checkout's metadata naming a price neither the app nor Stripe knows: it cannot be
    # credited now, so the delivery fails (503) and Stripe will retry.
    unknown_price = event(
        "checkout.session.completed",
        {
            "id": f"cs_test_{uuid.uuid4().hex[:12]}",
            "object": "checkout.session",
            "mode": "payment",
            "payment_status": "paid",
            "amount_subtotal": 500,
            "amount_total": 500,
            "currency": "usd",
            "metadata": {"user_id": str(user), "price_id": "price_ops_unknown"},
        },
    )
    before = _scrape(client)

    answers = [
        client.post(hook, content=payload, headers=headers).status_code
        for payload, headers in [
            signed(unused),  # ignored: an event type the app does not use
            signed(unused),  # duplicate
            (signed(unused)[0], {"Stripe-Signature": "t=1,v1=00"}),  # rejected
            signed(unknown_price),  # failed
        ]
    ]
    after = _scrape(client)

    assert answers == [200, 200, 400, 503]
    outcomes = {
        o: _grew(before, after, "credits_webhook_deliveries_total", outcome=o)
        for o in metrics.WEBHOOK_OUTCOMES
    }
    assert outcomes == {"applied": 0, "duplicate": 1, "ignored": 1, "failed": 1, "rejected": 1}


def test_every_outcome_is_published_before_it_happens(client):
    text = _scrape(client)
    found = samples(text)

    for outcome in metrics.SPEND_OUTCOMES:
        assert ("credits_spends_total", (("outcome", outcome),)) in found
    for outcome in metrics.WEBHOOK_OUTCOMES:
        assert ("credits_webhook_deliveries_total", (("outcome", outcome),)) in found


def test_reconcile_drift_gauge_shows_the_last_run(client):
    metrics.record_drift({"paid_not_granted": 2, "duplicate_grant": 1}, finished_at=1_700_000_000)
    first = _scrape(client)
    metrics.record_drift({}, finished_at=1_700_000_900)
    second = _scrape(client)

    drift = {k: value(first, "credits_reconcile_drift", kind=k) for k in metrics.DRIFT_KINDS}
    assert drift == {
        k: {"paid_not_granted": 2, "duplicate_grant": 1}.get(k, 0) for k in metrics.DRIFT_KINDS
    }
    assert value(first, "credits_reconcile_last_run_timestamp_seconds") == 1_700_000_000
    assert all(value(second, "credits_reconcile_drift", kind=k) == 0 for k in metrics.DRIFT_KINDS)
    assert value(second, "credits_reconcile_last_run_timestamp_seconds") == 1_700_000_900


@pytest.mark.parametrize(
    ("sent", "status"),
    [(None, 401), ("Bearer wrong-token", 401), ("Bearer ops-metrics-token-0123", 200)],
    ids=["none", "wrong", "right"],
)
def test_metrics_token_guards_the_scrape(client, monkeypatch, sent, status):
    monkeypatch.setenv("METRICS_TOKEN", "ops-metrics-token-0123")
    get_settings.cache_clear()

    response = client.get("/metrics", headers={"Authorization": sent} if sent else {})

    assert response.status_code == status
    if status == 401:
        assert response.json()["error"]["code"] == "unauthorized"
    else:
        assert "credits_spends_total" in response.text
