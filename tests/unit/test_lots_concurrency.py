"""Spends racing the moment lots expire, from 32 threads and from 4 processes.

Four lots: two end at the instant T (a promotional one that burns first, and a paid one),
one a day later, one never. Half the spends run just before T, half exactly at or just
after it, all released together. Whatever the interleaving: no lot goes below zero, no lot
is drawn from at or after its end, every credit that was spendable is spent (one at a time,
until none is left), what was left in each lot at T expires in exactly one entry, and the
ledger check passes.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import CreditLot, EntryKind, LedgerEntry, LotAllocation, utcnow
from credits_app.services.errors import InsufficientCredits
from credits_app.services.holds.expiry import expire_due_lots
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import LotTerms, grant_credits, spend_credits
from tests.support.concurrency import outcomes_from_processes
from tests.support.factories import make_user

MS = timedelta(milliseconds=1)
# name: (credits, category, ends after T by); the first two end at T itself.
LOTS = {
    "promo-at-T": (2, "promotional", timedelta(0)),
    "paid-at-T": (108, "paid", timedelta(0)),
    "next-day": (30, "paid", timedelta(days=1)),
    "never": (30, "paid", None),
}
TOTAL = sum(credits for credits, _, _ in LOTS.values())
# Fewer spends before T than the lots ending at T hold, so the paid one always has credits
# left to expire; more spends in all than there are credits, so everything spendable goes.
BEFORE = 100


def _give_lots(session: Session, user_id: int, ends: datetime) -> dict[str, int]:
    """Grant the four lots, effective since a day before T; return their ids by name."""
    ids = {}
    for name, (credits, category, after) in LOTS.items():
        terms = LotTerms(
            category=category,
            effective_at=ends - timedelta(days=1),
            expires_at=None if after is None else ends + after,
        )
        result = grant_credits(
            session=session,
            user_id=user_id,
            amount=credits,
            reason=name,
            idempotency_key=f"lot-{name}",
            terms=terms,
            now=ends - timedelta(hours=1),
        )
        ids[name] = session.exec(
            select(CreditLot.id).where(CreditLot.entry_id == result.entry_id)
        ).scalar_one()
    return ids


def _moment(key: str) -> datetime:
    """The `now` a key asks for: "before|at|after:<T in microseconds>:<n>"."""
    when, ends, _ = key.split(":", 2)
    instant = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(ends))
    return instant + {"before": -MS, "at": timedelta(0), "after": MS}[when]


def _spend_once(engine, user_id: int, key: str) -> str:
    """Spend one credit at the key's moment: "spent" or "insufficient"."""
    with Session(engine) as session:
        try:
            spend_credits(
                session=session,
                user_id=user_id,
                amount=1,
                feature="race",
                idempotency_key=key,
                now=_moment(key),
            )
        except InsufficientCredits:
            return "insufficient"
    return "spent"


def _key(when: str, ends: datetime, n: object) -> str:
    micros = (ends - datetime.fromtimestamp(0, UTC)) // timedelta(microseconds=1)
    return f"{when}:{micros}:{n}"


def _assert_the_race_was_fair(session: Session, user_id: int, ids: dict[str, int], ends) -> int:
    """Check every promise of the race; return how many credits were spent."""
    remaining = dict(
        session.exec(
            select(CreditLot.id, CreditLot.remaining).where(CreditLot.user_id == user_id)
        ).all()
    )
    # Every credit that was spendable went: no lot has any left.
    assert remaining == {lot_id: 0 for lot_id in ids.values()}
    # Nothing was drawn from a lot at or after its end, except by its own expiry.
    late = session.exec(
        select(func.count())
        .select_from(LotAllocation)
        .join(LedgerEntry, LedgerEntry.id == LotAllocation.entry_id)
        .join(CreditLot, CreditLot.id == LotAllocation.lot_id)
        .where(
            LotAllocation.amount < 0,
            LedgerEntry.kind != EntryKind.EXPIRE,
            LedgerEntry.created_at >= CreditLot.expires_at,
        )
    ).scalar_one()
    assert late == 0
    # What was left in each lot at T expired in exactly one entry; the others never expired.
    drawn = dict(
        session.exec(
            select(LotAllocation.lot_id, func.sum(LotAllocation.amount))
            .join(LedgerEntry, LedgerEntry.id == LotAllocation.entry_id)
            .where(LedgerEntry.kind == EntryKind.SPEND, LedgerEntry.user_id == user_id)
            .group_by(LotAllocation.lot_id)
        ).all()
    )
    expired = {}
    for name, lot_id in ids.items():
        rows = session.exec(
            select(LedgerEntry.delta, LedgerEntry.created_at).where(
                LedgerEntry.kind == EntryKind.EXPIRE, LedgerEntry.source_ref == f"lot:{lot_id}"
            )
        ).all()
        left_at_end = LOTS[name][0] + int(drawn.get(lot_id, 0))
        if LOTS[name][2] == timedelta(0) and left_at_end:
            assert [delta for delta, _ in rows] == [-left_at_end], name
            assert rows[0].created_at >= ends
        else:
            assert rows == [], name
        expired[name] = left_at_end if rows else 0
    assert expired["paid-at-T"] >= LOTS["paid-at-T"][0] + LOTS["promo-at-T"][0] - BEFORE
    spent = -session.exec(
        select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
            LedgerEntry.user_id == user_id, LedgerEntry.kind == EntryKind.SPEND
        )
    ).scalar_one()
    assert spent == TOTAL - sum(expired.values())
    assert check_ledger(session=session) == []
    return spent


def test_32_threads_spend_across_lots_while_two_of_them_expire(engine):
    ends = utcnow().replace(microsecond=0) + timedelta(days=30)
    with Session(engine) as session:
        user = make_user(session)
        ids = _give_lots(session, user.id, ends)
    barrier = threading.Barrier(32)

    def before(n: int) -> Counter:
        barrier.wait()
        keys = [_key("before", ends, f"t{n}-{i}") for i in range(BEFORE // 16)]
        return Counter(_spend_once(engine, user.id, key) for key in keys)

    def after(n: int) -> Counter:
        barrier.wait()
        outcomes: Counter = Counter()
        if n < 2:
            # Two sweepers race the requests for the same due lots.
            with Session(engine) as session:
                outcomes["swept"] += expire_due_lots(session=session, now=ends)
        for i in range(TOTAL):
            when = "at" if i % 2 else "after"
            outcome = _spend_once(engine, user.id, _key(when, ends, f"t{n}-{i}"))
            outcomes[outcome] += 1
            if outcome == "insufficient":
                break
        return outcomes

    with ThreadPoolExecutor(max_workers=32) as pool:
        jobs = [pool.submit(before if n % 2 else after, n // 2) for n in range(32)]
        outcomes = sum((job.result() for job in jobs), Counter())

    with Session(engine) as session:
        spent = _assert_the_race_was_fair(session, user.id, ids, ends)
    assert outcomes["spent"] == spent
    assert outcomes["insufficient"] >= 16  # every "after" thread ran dry
    assert outcomes["swept"] <= 2  # the two lots ending at T, at most once in all


def test_4_processes_spend_across_lots_while_two_of_them_expire(db_url, engine):
    ends = utcnow().replace(microsecond=0) + timedelta(days=30)
    with Session(engine) as session:
        user = make_user(session)
        ids = _give_lots(session, user.id, ends)
    # Each process alternates before T, at T, before T, after T: half the 200 attempts (for
    # 170 credits) run before the two lots end, half at or after.
    moments = ["before", "at", "before", "after"]
    keys = [[_key(moments[i % 4], ends, f"p{p}-{i}") for i in range(50)] for p in range(4)]
    assert sum(key.startswith("before") for chunk in keys for key in chunk) == BEFORE

    outcomes = outcomes_from_processes(_spend_once, db_url, user.id, keys)

    with Session(engine) as session:
        spent = _assert_the_race_was_fair(session, user.id, ids, ends)
    assert outcomes == {"spent": spent, "insufficient": 200 - spent}
