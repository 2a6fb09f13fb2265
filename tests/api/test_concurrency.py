"""Concurrent requests over HTTP: duplicates spend once, racing spends never overdraw."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.conftest import bearer, key, spend_body

SPEND = "/api/credits/spend"


def post_all(client, bodies: list[dict], headers: dict) -> list:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda body: client.post(SPEND, json=body, headers=headers), bodies))


def test_concurrent_duplicates_spend_exactly_once(client, user, ledger_ok):
    body = spend_body(10, idempotency_key=key())

    responses = post_all(client, [body] * 8, bearer(user.id))

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["entryId"] for r in responses}) == 1
    assert sorted(r.json()["replayed"] for r in responses) == [False] + [True] * 7
    assert client.get("/api/me/entitlements", headers=bearer(user.id)).json()["balance"] == 90
    ledger_ok()


def test_racing_spends_never_overdraw(client, user, ledger_ok):
    bodies = [spend_body(15) for _ in range(12)]

    responses = post_all(client, bodies, bearer(user.id))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 6 + [402] * 6
    assert client.get("/api/me/entitlements", headers=bearer(user.id)).json()["balance"] == 10
    ledger_ok()
