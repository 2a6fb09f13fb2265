"""Traffic and ledger helpers shared by the runtime, fault and soak tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session

from credits_app.services.tokens import generate_access_token
from tests.support import factories

FEATURE = "runtime-test"


def new_user(engine: Engine, credits: int) -> int:
    """Create a user with `credits` directly in the database; return its id."""
    with Session(engine, expire_on_commit=False) as session:
        return factories.make_user(session, credits=credits).id


def token_for(user_id: int, feature: str = FEATURE) -> str:
    """A long-lived access token (an hour) so slow CI never sees it expire."""
    return generate_access_token(user_id, feature, ttl_seconds=3600)


def spend(
    client: httpx.Client, token: str, amount: int, key: str, feature: str = FEATURE
) -> tuple[int, dict[str, Any]]:
    """POST /api/credits/spend; return (status, JSON body)."""
    response = client.post(
        "/api/credits/spend",
        json={"amount": amount, "feature": feature, "idempotencyKey": key},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code, _json(response)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        return response.json()
    except ValueError:
        return {"raw": response.text[:200]}


def in_parallel(fn: Callable[[Any], Any], items: Iterable[Any], threads: int) -> list[Any]:
    """Run `fn` over `items` on `threads` threads; results in item order."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(fn, items))


def fresh_key(prefix: str = "k") -> str:
    """A unique idempotency key."""
    return f"{prefix}-{uuid.uuid4().hex}"


def balance_row(engine: Engine, user_id: int) -> int:
    """The user's stored balance."""
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT balance FROM credit_account WHERE user_id = :u"),
            {"u": user_id},
        ).scalar_one()


def entries_by_key(engine: Engine, user_id: int, kind: str = "spend") -> dict[str, int]:
    """Count of ledger entries of `kind` per idempotency key for the user."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT idempotency_key, count(*) FROM credit_ledger "
                "WHERE user_id = :u AND kind = :k GROUP BY idempotency_key"
            ),
            {"u": user_id, "k": kind},
        ).all()
    return {key: count for key, count in rows}
