"""A user has at most MAX_ACTIVE_HOLDS_PER_USER active holds; AI runs count too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import CreditHold
from credits_app.services.ai import LocalProvider, stream_example
from credits_app.services.holds import release, reserve
from credits_app.services.holds.errors import TooManyHolds
from credits_app.settings import get_settings
from tests.api.conftest import assert_error, bearer, key
from tests.support.factories import make_user

RESERVE = "/api/credits/reserve"


def _cap(monkeypatch, value: int) -> None:
    monkeypatch.setenv("MAX_ACTIVE_HOLDS_PER_USER", str(value))
    get_settings.cache_clear()


def _hold(session, user_id, idem=None, amount=1):
    return reserve(
        session=session,
        user_id=user_id,
        amount=amount,
        feature="example-ai",
        idempotency_key=idem or key(),
    )


def _reserve_over_http(client, user_id, idem=None):
    body = {"amount": 1, "feature": "example-ai", "idempotencyKey": idem or key()}
    return client.post(RESERVE, json=body, headers=bearer(user_id))


def _active(session, user_id) -> int:
    query = select(func.count()).where(CreditHold.user_id == user_id, CreditHold.status == "active")
    try:
        return session.exec(query).one()[0]
    finally:
        session.rollback()  # on SQLite an open transaction would keep the write lock


def test_the_default_cap_refuses_the_101st_active_hold_with_409(client, session, app_settings):
    assert app_settings.max_active_holds_per_user == 100
    user = make_user(session, credits=1000)
    other = make_user(session, credits=10)
    first = _hold(session, user.id, "first")
    for _ in range(99):
        _hold(session, user.id)

    refused = _reserve_over_http(client, user.id)

    error = assert_error(refused, 409, "too_many_holds")
    assert (error["limit"], error["active"]) == (100, 100)
    assert "release" in error["message"]
    assert _active(session, user.id) == 100
    # A retry of a hold that exists replays; another user is not affected.
    assert _reserve_over_http(client, user.id, "first").json()["replayed"] is True
    assert _reserve_over_http(client, other.id).status_code == 200
    # Settling one frees its slot.
    release(session=session, user_id=user.id, hold_id=first.hold_id, idempotency_key="free")
    assert _reserve_over_http(client, user.id).status_code == 200


def test_ai_runs_count_toward_the_cap_and_are_refused_past_it(session, app_settings, monkeypatch):
    _cap(monkeypatch, 2)
    user = make_user(session, credits=1000)
    run = stream_example(
        user_id=user.id, prompt="A short text.", idempotency_key="run-1", provider=LocalProvider(0)
    )
    next(run)  # the run reserved its hold and is streaming
    _hold(session, user.id)

    with pytest.raises(TooManyHolds):
        _hold(session, user.id)
    with pytest.raises(TooManyHolds):
        next(
            stream_example(
                user_id=user.id,
                prompt="Another text.",
                idempotency_key="run-2",
                provider=LocalProvider(0),
            )
        )
    run.close()  # the first run settles its hold: a slot is free again
    _hold(session, user.id)
    assert _active(session, user.id) == 2


def test_the_cap_holds_under_concurrent_reserves(db_url, engine, app_settings, monkeypatch):
    _cap(monkeypatch, 5)
    with Session(engine) as session:
        user = make_user(session, credits=1000)
    barrier = threading.Barrier(10)

    def one(n: int) -> str:
        with Session(engine) as session:
            barrier.wait()
            try:
                _hold(session, user.id, f"race-{n}")
            except TooManyHolds:
                return "refused"
            return "reserved"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = sorted(pool.map(one, range(20)))

    assert outcomes.count("reserved") == 5
    with Session(engine) as session:
        assert _active(session, user.id) == 5


def test_zero_turns_the_cap_off(session, app_settings, monkeypatch):
    _cap(monkeypatch, 0)
    user = make_user(session, credits=1000)
    for _ in range(3):
        _hold(session, user.id)
    assert _active(session, user.id) == 3
