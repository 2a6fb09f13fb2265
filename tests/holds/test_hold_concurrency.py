"""Concurrent reserves never over-commit; a hold resolves once; the ledger stays consistent."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session

from credits_app.services.accounts import balance_of
from credits_app.services.errors import CreditsError, InsufficientCredits
from credits_app.services.holds import capture, release, reserve
from credits_app.services.invariants import check_ledger
from tests.support.cli import assert_check_ok
from tests.support.concurrency import outcomes_from_processes
from tests.support.factories import make_user


def _reserve_one(engine, user_id: int, key: str, amount: int = 10, barrier=None) -> str:
    if barrier is not None:
        barrier.wait()
    with Session(engine) as session:
        try:
            reserve(
                session=session, user_id=user_id, amount=amount, feature="race", idempotency_key=key
            )
        except InsufficientCredits:
            return "insufficient"
    return "reserved"


def test_concurrent_reserves_from_threads_never_over_commit(db_url, engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
    barrier = threading.Barrier(20)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = Counter(
            pool.map(lambda n: _reserve_one(engine, user.id, f"t-{n}", barrier=barrier), range(40))
        )

    assert outcomes == {"reserved": 10, "insufficient": 30}
    with Session(engine) as session:
        balance = balance_of(session=session, user_id=user.id)
        assert (balance.balance, balance.held, balance.available) == (100, 100, 0)
        assert check_ledger(session=session) == []


def test_concurrent_reserves_from_processes_never_over_commit(db_url, engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
    keys = [[f"p{p}-{n}" for n in range(10)] for p in range(3)]

    outcomes = outcomes_from_processes(_reserve_one, db_url, user.id, keys)

    assert outcomes == {"reserved": 10, "insufficient": 20}
    with Session(engine) as session:
        assert balance_of(session=session, user_id=user.id).available == 0
    assert_check_ok(db_url)


def test_racing_settlements_resolve_a_hold_exactly_once(db_url, engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
        hold = reserve(
            session=session, user_id=user.id, amount=50, feature="f", idempotency_key="h"
        )
    barrier = threading.Barrier(12)

    def settle(n: int) -> str:
        barrier.wait()
        with Session(engine) as session:
            try:
                if n % 2:
                    release(
                        session=session,
                        user_id=user.id,
                        hold_id=hold.hold_id,
                        idempotency_key=f"k{n}",
                    )
                else:
                    capture(
                        session=session,
                        user_id=user.id,
                        hold_id=hold.hold_id,
                        amount=20,
                        idempotency_key=f"k{n}",
                    )
            except CreditsError as exc:
                return exc.code
        return "won"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(settle, range(12)))

    assert outcomes == {"won": 1, "hold_not_active": 11}
    with Session(engine) as session:
        assert balance_of(session=session, user_id=user.id).held == 0
        assert check_ledger(session=session) == []


def test_same_key_capture_from_many_threads_charges_once(db_url, engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
        hold = reserve(
            session=session, user_id=user.id, amount=50, feature="f", idempotency_key="h"
        )
    barrier = threading.Barrier(10)

    def settle(_: int) -> int:
        barrier.wait()
        with Session(engine) as session:
            done = capture(
                session=session,
                user_id=user.id,
                hold_id=hold.hold_id,
                amount=7,
                idempotency_key="c",
            )
        return done.entry_id

    with ThreadPoolExecutor(max_workers=10) as pool:
        entry_ids = set(pool.map(settle, range(10)))

    assert len(entry_ids) == 1
    with Session(engine) as session:
        assert balance_of(session=session, user_id=user.id).balance == 93


def _mixed_worker(engine, user_ids: list[int], seed: int) -> None:
    rng = random.Random(seed)
    for n in range(25):
        user_id = rng.choice(user_ids)
        with Session(engine) as session:
            try:
                hold = reserve(
                    session=session,
                    user_id=user_id,
                    amount=rng.randint(1, 30),
                    feature="mix",
                    idempotency_key=f"w{seed}-{n}",
                )
                if rng.random() < 0.6:
                    capture(
                        session=session,
                        user_id=user_id,
                        hold_id=hold.hold_id,
                        amount=rng.randint(1, hold.reserved),
                        idempotency_key=f"w{seed}-{n}-c",
                    )
                elif rng.random() < 0.8:
                    release(
                        session=session,
                        user_id=user_id,
                        hold_id=hold.hold_id,
                        idempotency_key=f"w{seed}-{n}-r",
                    )
            except InsufficientCredits:
                pass


def test_ledger_check_stays_ok_under_mixed_concurrent_load(db_url, engine):
    with Session(engine) as session:
        user_ids = [make_user(session, credits=300).id for _ in range(3)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda seed: _mixed_worker(engine, user_ids, seed), range(8)))

    with Session(engine) as session:
        assert check_ledger(session=session) == []
        for user_id in user_ids:
            balance = balance_of(session=session, user_id=user_id)
            assert 0 <= balance.available <= balance.balance <= 300
    assert_check_ok(db_url)
