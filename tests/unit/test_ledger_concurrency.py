"""No overdraft and exactly-once writes under concurrency, from threads and from processes."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import LedgerEntry
from credits_app.services.accounts import balance_of
from credits_app.services.errors import InsufficientCredits
from credits_app.services.ledger import spend_credits
from tests.support.concurrency import assert_spans_overlap, outcomes_from_processes
from tests.support.factories import make_user


def _spend_one(engine, user_id: int, key: str, barrier: threading.Barrier | None = None) -> str:
    if barrier is not None:
        barrier.wait()
    with Session(engine) as session:
        try:
            result = spend_credits(
                session=session, user_id=user_id, amount=1, feature="race", idempotency_key=key
            )
        except InsufficientCredits:
            return "insufficient"
    return "replayed" if result.replayed else "spent"


def test_200_concurrent_one_credit_spends_against_100_credits_from_threads(engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
    barrier = threading.Barrier(50)

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = Counter(
            pool.map(lambda n: _spend_one(engine, user.id, f"t-{n}", barrier), range(200))
        )

    assert outcomes == {"spent": 100, "insufficient": 100}
    with Session(engine) as session:
        assert balance_of(session=session, user_id=user.id).balance == 0


def test_200_concurrent_one_credit_spends_from_several_processes(db_url, engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
    keys = [[f"p{p}-{n}" for n in range(50)] for p in range(4)]

    outcomes = outcomes_from_processes(_spend_one, db_url, user.id, keys)

    assert outcomes == {"spent": 100, "insufficient": 100}
    with Session(engine) as session:
        assert balance_of(session=session, user_id=user.id).balance == 0


def test_20_concurrent_requests_with_one_key_write_one_entry(engine):
    with Session(engine) as session:
        user = make_user(session, credits=100)
    barrier = threading.Barrier(20)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = Counter(
            pool.map(lambda _: _spend_one(engine, user.id, "same-key", barrier), range(20))
        )

    assert outcomes == {"spent": 1, "replayed": 19}
    with Session(engine) as session:
        spends = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "spend")
        assert session.exec(spends).scalar_one() == 1
        assert balance_of(session=session, user_id=user.id).balance == 99


def test_spans_that_all_cover_one_instant_overlap():
    assert_spans_overlap([(10.0, 12.0), (10.5, 11.0), (10.9, 13.0)])


@pytest.mark.parametrize(
    "spans",
    [
        [(10.0, 11.0), (11.5, 12.0)],  # one finished before the other started
        [(10.0, 11.0), (11.0, 12.0)],  # back to back: no instant when both ran
        [(10.0, 12.0), (10.5, 11.0), (11.5, 13.0)],  # pairs overlap, but not all three
    ],
)
def test_processes_that_did_not_run_at_once_fail_the_race(spans):
    with pytest.raises(AssertionError, match="did not run concurrently"):
        assert_spans_overlap(spans)
