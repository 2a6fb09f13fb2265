"""Expired holds give their credits back: lazily on the next read or write, and by the sweep."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session

from credits_app.db import get_engine
from credits_app.models import CreditHold, utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.holds import (
    HoldExpired,
    active_holds,
    capture,
    expire_due_holds,
    release,
    reserve,
    sweep_holds_forever,
)
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import spend_credits
from tests.support.cli import assert_check_ok, run_cli
from tests.support.factories import make_user


def _old_hold(session, user_id, amount, key, minutes_ago=10, ttl=60):
    """A hold made in the past whose one-minute lifetime is over."""
    then = utcnow() - timedelta(minutes=minutes_ago)
    return reserve(
        session=session,
        user_id=user_id,
        amount=amount,
        feature="ai",
        idempotency_key=key,
        ttl_seconds=ttl,
        now=then,
    )


def test_reads_do_not_count_an_expired_hold(session):
    user = make_user(session, credits=100)
    _old_hold(session, user.id, 60, "old")

    balance = balance_of(session=session, user_id=user.id)

    assert (balance.balance, balance.held, balance.available) == (100, 0, 100)
    assert active_holds(session=session, user_id=user.id) == []


def test_capture_of_an_expired_hold_is_refused_and_releases_it(session):
    user = make_user(session, credits=100)
    hold = _old_hold(session, user.id, 60, "old")

    with pytest.raises(HoldExpired) as caught:
        capture(
            session=session, user_id=user.id, hold_id=hold.hold_id, amount=5, idempotency_key="c"
        )
    with pytest.raises(HoldExpired):
        release(session=session, user_id=user.id, hold_id=hold.hold_id, idempotency_key="r")

    assert (caught.value.code, caught.value.http_status) == ("hold_expired", 410)
    assert session.get(CreditHold, hold.hold_id).status == "expired"
    account = balance_of(session=session, user_id=user.id)
    assert (account.balance, account.held) == (100, 0)
    assert check_ledger(session=session) == []


def test_a_spend_releases_expired_holds_it_needs(session):
    user = make_user(session, credits=100)
    _old_hold(session, user.id, 90, "old")

    result = spend_credits(
        session=session, user_id=user.id, amount=50, feature="x", idempotency_key="s"
    )

    assert (result.balance, result.available) == (50, 50)
    assert check_ledger(session=session) == []


def test_a_reserve_releases_expired_holds_first(session):
    user = make_user(session, credits=100)
    _old_hold(session, user.id, 90, "old")

    hold = reserve(session=session, user_id=user.id, amount=80, feature="ai", idempotency_key="new")

    assert (hold.balance, hold.available) == (100, 20)
    assert check_ledger(session=session) == []


def test_the_sweep_releases_every_due_hold_once(session):
    users = [make_user(session, credits=50) for _ in range(3)]
    live = reserve(
        session=session, user_id=users[0].id, amount=5, feature="ai", idempotency_key="live"
    )
    for n, user in enumerate(users):
        _old_hold(session, user.id, 10, f"old-{n}")
        _old_hold(session, user.id, 15, f"older-{n}", minutes_ago=20)

    assert expire_due_holds(session=session) == 6
    assert expire_due_holds(session=session) == 0

    assert [h.hold_id for h in active_holds(session=session, user_id=users[0].id)] == [live.hold_id]
    assert session.get(CreditHold, live.hold_id).status == "active"
    assert check_ledger(session=session) == []


def test_the_sweep_command(db_url, session):
    user = make_user(session, credits=50)
    _old_hold(session, user.id, 10, "old")

    other = make_user(session, credits=10)
    live = reserve(session=session, user_id=other.id, amount=7, feature="ai", idempotency_key="l")

    result = run_cli(db_url, "sweep-holds")
    listed = run_cli(db_url, "holds", str(other.id), "--json")

    assert result.returncode == 0, result.stderr
    assert "expired 1 hold" in result.stdout
    assert [(h["hold_id"], h["amount"]) for h in json.loads(listed.stdout)] == [(live.hold_id, 7)]
    assert_check_ok(db_url)


def test_racing_sweepers_and_requests_expire_each_hold_once(db_url, engine):
    with Session(engine) as session:
        users = [make_user(session, credits=100) for _ in range(4)]
        old = [_old_hold(session, u.id, 5, f"old-{u.id}-{n}") for u in users for n in range(5)]
    barrier = threading.Barrier(8, timeout=30)

    def sweep(_: int) -> int:
        barrier.wait()
        with Session(engine) as session:
            return expire_due_holds(session=session)

    def poke(n: int) -> int:
        barrier.wait()
        hold = old[n * 5]
        with Session(engine) as session:
            try:
                release(
                    session=session, user_id=hold.user_id, hold_id=hold.hold_id, idempotency_key="r"
                )
            except HoldExpired:
                return 0
        return 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        sweeps = [pool.submit(sweep, n) for n in range(4)]
        pokes = [pool.submit(poke, n) for n in range(4)]
        swept = sum(f.result(timeout=60) for f in sweeps)
        released = sum(f.result(timeout=60) for f in pokes)

    with Session(engine) as session:
        statuses = [session.get(CreditHold, h.hold_id).status for h in old]
        assert statuses == ["expired"] * 20 and released == 0
        assert swept <= 20
        assert check_ledger(session=session) == []


def test_the_background_sweeper_releases_due_holds(app_settings, db_url):
    engine = get_engine()
    with Session(engine) as session:
        user = make_user(session, credits=50)
        hold = _old_hold(session, user.id, 10, "old")

    async def run_briefly() -> str:
        task = asyncio.create_task(sweep_holds_forever(interval_seconds=0.05))
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                with Session(engine) as session:
                    status = session.get(CreditHold, hold.hold_id).status
                if status != "active":
                    return status
            return "active"
        finally:
            task.cancel()

    assert asyncio.run(run_briefly()) == "expired"
