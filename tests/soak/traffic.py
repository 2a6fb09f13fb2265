"""One soak client process: a fixed number of mixed operations, and a journal of what was acked.

Runs in its own OS process (multiprocessing, spawn), so it imports only what it needs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from tests.support.processes import ADMIN_API_KEY

FEATURE = "soak"


@dataclass(frozen=True)
class ClientPlan:
    """What one client process does.

    Attributes:
        index: Client number (keys and the random seed derive from it).
        url: Backend address.
        sim_url: Simulator address.
        tokens: user id -> access token for spending.
        billing_tokens: user id -> access token for buying (feature `billing`).
        ops: Number of operations.
    """

    index: int
    url: str
    sim_url: str
    tokens: dict[int, str]
    billing_tokens: dict[int, str]
    ops: int


# A journal line: (kind, user_id, key, amount, entry_id); purchases use the session id as key.
Journal = list[tuple[str, int, str, int, int]]


def run_client(plan: ClientPlan) -> Journal:
    """Do `plan.ops` operations; return every acknowledged one."""
    rng = random.Random(plan.index)
    journal: Journal = []
    acked: list[tuple[str, int, str, int, int]] = []
    with httpx.Client(base_url=plan.url, timeout=60) as client:
        for n in range(plan.ops):
            roll = rng.random()
            user = rng.choice(list(plan.tokens))
            if acked and roll < 0.15:
                _duplicate(client, plan, rng.choice(acked), journal)
            elif roll < 0.55:
                _spend(client, plan, user, f"soak-s-{plan.index}-{n}", rng.randint(1, 9), acked)
            elif roll < 0.80:
                _grant(client, user, f"soak-g-{plan.index}-{n}", rng.randint(1, 20), acked)
            elif roll < 0.90:
                _reserve_capture(client, plan, user, f"soak-h-{plan.index}-{n}", rng, journal)
            else:
                _purchase(client, plan, user, journal)
    return acked + journal


def _auth(plan: ClientPlan, user: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {plan.tokens[user]}"}


def _spend(client, plan, user, key, amount, acked) -> None:
    body = {"amount": amount, "feature": FEATURE, "idempotencyKey": key}
    response = client.post("/api/credits/spend", json=body, headers=_auth(plan, user))
    assert response.status_code in (200, 402), response.text
    if response.status_code == 200:
        acked.append(("spend", user, key, amount, response.json()["entryId"]))


def _grant(client, user, key, amount, acked) -> None:
    body = {"userId": user, "amount": amount, "reason": "soak", "idempotencyKey": key}
    response = client.post("/api/credits/grant", json=body, headers={"x-admin-key": ADMIN_API_KEY})
    assert response.status_code == 200, response.text
    acked.append(("grant", user, key, amount, response.json()["entryId"]))


def _duplicate(client, plan, op, journal) -> None:
    """Repeat an acknowledged request: it must replay, never write again."""
    kind, user, key, amount, _ = op
    if kind == "spend":
        body = {"amount": amount, "feature": FEATURE, "idempotencyKey": key}
        response = client.post("/api/credits/spend", json=body, headers=_auth(plan, user))
    else:
        body = {"userId": user, "amount": amount, "reason": "soak", "idempotencyKey": key}
        headers = {"x-admin-key": ADMIN_API_KEY}
        response = client.post("/api/credits/grant", json=body, headers=headers)
    assert response.status_code == 200 and response.json()["replayed"], response.text
    journal.append(("replay", user, key, amount, response.json()["entryId"]))


def _reserve_capture(client, plan, user, key, rng, journal) -> None:
    """Reserve, then capture part of it (the rest goes back) or release it all."""
    amount = rng.randint(2, 10)
    body = {"amount": amount, "feature": FEATURE, "idempotencyKey": key, "ttlSeconds": 600}
    response = client.post("/api/credits/reserve", json=body, headers=_auth(plan, user))
    assert response.status_code in (200, 402), response.text
    if response.status_code != 200:
        return
    hold = response.json()["holdId"]
    if rng.random() < 0.2:
        path, used = f"/api/credits/holds/{hold}/release", 0
        body = {"idempotencyKey": key + "-r"}
    else:
        path, used = f"/api/credits/holds/{hold}/capture", rng.randint(1, amount)
        body = {"amount": used, "idempotencyKey": key + "-c"}
    for _ in range(1 + (rng.random() < 0.3)):  # sometimes twice: must replay
        response = client.post(path, json=body, headers=_auth(plan, user))
        assert response.status_code == 200, response.text
    journal.append(("capture" if used else "release", user, key, used, hold))


def _purchase(client, plan, user, journal) -> None:
    """Buy a pack: the simulator delivers the webhook; we deliver it again ourselves."""
    from tests.runtime import payments

    session_id = payments.start_checkout(plan.url, plan.billing_tokens[user])
    payments.pay(plan.sim_url, session_id)
    event = payments.completed_event(plan.sim_url, session_id)
    assert payments.deliver(plan.url, event) == 200
    payments.resend(plan.sim_url, event["id"])
    journal.append(("purchase", user, session_id, 0, 0))
