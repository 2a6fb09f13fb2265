"""Credit lots as bookkeeping: burn order, windows, expiry, holds and clawbacks, with numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from credits_app.models import CreditLot, EntryKind, LedgerEntry, LotAllocation, utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.errors import InsufficientCredits
from credits_app.services.holds import capture, release, reserve
from credits_app.services.holds.expiry import expire_due_lots
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import LotTerms, grant_credits, post_clawback, spend_credits
from credits_app.services.lots import add_months, expiry_of, live_lots, next_expiry, parse_policy
from tests.support.factories import make_user

DAY = timedelta(days=1)


def grant(session, user_id, amount, key, **terms):
    terms.setdefault("effective_at", utcnow() - DAY)
    return grant_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=f"lot {key}",
        idempotency_key=key,
        terms=LotTerms(**terms),
    )


def spend(session, user_id, amount, key, now=None):
    return spend_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        feature="ai-generation",
        idempotency_key=key,
        now=now,
    )


def lot_ids(session, user_id) -> dict[str, int]:
    """Lots by the key of the grant that made them ("lot A" -> A)."""
    query = (
        select(CreditLot.id, LedgerEntry.reason)
        .join(LedgerEntry, LedgerEntry.id == CreditLot.entry_id)
        .where(CreditLot.user_id == user_id)
    )
    return {reason.removeprefix("lot "): lot_id for lot_id, reason in session.exec(query)}


def drawn_by(session, entry_id: int) -> dict[int, int]:
    query = select(LotAllocation.lot_id, LotAllocation.amount).where(
        LotAllocation.entry_id == entry_id
    )
    return dict(session.exec(query).all())


def remaining(session, user_id) -> dict[str, int]:
    ids = lot_ids(session, user_id)
    query = select(CreditLot.id, CreditLot.remaining).where(CreditLot.user_id == user_id)
    rows = dict(session.exec(query).all())
    return {name: rows[lot_id] for name, lot_id in ids.items()}


def test_burn_order_golden_example(session):
    """Priority, then soonest expiry (never last), then promotional before paid, then oldest."""
    user = make_user(session)
    soon, later = utcnow() + 5 * DAY, utcnow() + 10 * DAY
    grant(session, user.id, 100, "A")  # paid, never expires, oldest
    grant(session, user.id, 50, "B", category="promotional", expires_at=later)
    grant(session, user.id, 30, "C", expires_at=later)  # paid, same expiry as B
    grant(session, user.id, 20, "D", expires_at=soon)
    grant(session, user.id, 40, "E", priority=1)  # a later priority burns after all others
    grant(session, user.id, 10, "F")  # paid, never expires, newer than A
    ids = lot_ids(session, user.id)

    first = spend(session, user.id, 115, "s1")
    assert drawn_by(session, first.entry_id) == {
        ids["D"]: -20,
        ids["B"]: -50,
        ids["C"]: -30,
        ids["A"]: -15,
    }
    second = spend(session, user.id, 90, "s2")
    assert drawn_by(session, second.entry_id) == {ids["A"]: -85, ids["F"]: -5}
    third = spend(session, user.id, 10, "s3")
    assert drawn_by(session, third.entry_id) == {ids["F"]: -5, ids["E"]: -5}
    assert remaining(session, user.id) == {"A": 0, "B": 0, "C": 0, "D": 0, "E": 35, "F": 0}
    assert balance_of(session=session, user_id=user.id).available == 35
    assert check_ledger(session=session) == []


def test_a_lot_is_spendable_until_just_before_expires_at_and_then_expires_once(session):
    user = make_user(session)
    ends = utcnow() + DAY
    grant(session, user.id, 10, "short", expires_at=ends)
    grant(session, user.id, 5, "long")

    just_before = spend(session, user.id, 4, "before", now=ends - timedelta(microseconds=1))
    assert just_before.available == 11
    with pytest.raises(InsufficientCredits) as refused:
        spend(session, user.id, 6, "at", now=ends)
    assert refused.value.balance == 5  # only the never-expiring lot is left at `ends`
    expiries = session.exec(
        select(LedgerEntry.delta, LedgerEntry.source_ref).where(
            LedgerEntry.kind == EntryKind.EXPIRE
        )
    ).all()
    assert expiries == [(-6, f"lot:{lot_ids(session, user.id)['short']}")]
    # Once only: a sweep afterwards finds nothing more to expire.
    assert expire_due_lots(session=session, now=ends + DAY) == 0
    assert balance_of(session=session, user_id=user.id).balance == 5
    assert check_ledger(session=session) == []


def test_a_lot_that_starts_later_waits(session):
    user = make_user(session)
    starts = utcnow() + DAY
    grant(session, user.id, 30, "later", effective_at=starts)

    balance = balance_of(session=session, user_id=user.id)
    assert (balance.balance, balance.waiting, balance.available) == (30, 30, 0)
    with pytest.raises(InsufficientCredits):
        spend(session, user.id, 1, "too-early", now=starts - timedelta(seconds=1))
    assert spend(session, user.id, 30, "on-time", now=starts).available == 0
    assert check_ledger(session=session) == []


def test_reads_leave_out_a_lot_that_ended_before_any_write(session):
    user = make_user(session)
    grant(session, user.id, 7, "gone", effective_at=utcnow() - 2 * DAY, expires_at=utcnow() - DAY)
    grant(session, user.id, 3, "kept")
    balance = balance_of(session=session, user_id=user.id)
    assert (balance.balance, balance.available) == (3, 3)
    assert [lot.remaining for lot in live_lots(session, user.id)] == [3]


def test_a_hold_pins_lots_and_capture_survives_their_expiry(session):
    user = make_user(session)
    now = utcnow()
    grant(session, user.id, 10, "soon", expires_at=now + timedelta(seconds=60))
    grant(session, user.id, 10, "never")
    ids = lot_ids(session, user.id)
    hold = reserve(
        session=session,
        user_id=user.id,
        amount=15,
        feature="example-ai",
        idempotency_key="h1",
        ttl_seconds=300,
        now=now,
    )
    assert remaining(session, user.id) == {"soon": 0, "never": 5}

    later = now + timedelta(seconds=90)  # the pinned lot ended; the hold has not
    done = capture(
        session=session,
        user_id=user.id,
        hold_id=hold.hold_id,
        amount=12,
        idempotency_key="c1",
        now=later,
    )
    assert (done.captured, done.released) == (12, 3)
    # The capture keeps the first-pinned lot's 10 and 2 of the second; 3 go back to it.
    assert drawn_by(session, done.entry_id) == {ids["never"]: 3}
    assert remaining(session, user.id) == {"soon": 0, "never": 8}
    assert balance_of(session=session, user_id=user.id).available == 8
    assert check_ledger(session=session) == []


def test_released_credits_of_a_lot_that_ended_meanwhile_expire_at_once(session):
    user = make_user(session)
    now = utcnow()
    grant(session, user.id, 10, "soon", expires_at=now + timedelta(seconds=60))
    hold = reserve(
        session=session,
        user_id=user.id,
        amount=6,
        feature="example-ai",
        idempotency_key="h1",
        ttl_seconds=300,
        now=now,
    )
    later = now + timedelta(seconds=90)
    released = release(
        session=session, user_id=user.id, hold_id=hold.hold_id, idempotency_key="r1", now=later
    )
    assert released.available == 0
    expiries = (
        session.exec(
            select(LedgerEntry.delta)
            .where(LedgerEntry.kind == EntryKind.EXPIRE, LedgerEntry.source == "lot")
            .order_by(LedgerEntry.id)
        )
        .scalars()
        .all()
    )
    assert expiries == [-4, -6]  # the unpinned 4 at the lock, then the 6 given back
    assert balance_of(session=session, user_id=user.id).balance == 0
    assert check_ledger(session=session) == []


def test_a_clawback_takes_from_the_lot_its_payment_funded_first(session):
    user = make_user(session)
    grant(session, user.id, 50, "other", expires_at=utcnow() + DAY)  # would burn first
    grant(session, user.id, 40, "paid", funded_by="cs_test_1")
    ids = lot_ids(session, user.id)
    spend(session, user.id, 30, "s1")  # from "other"

    clawed = post_clawback(
        session,
        user_id=user.id,
        amount=60,
        reason="refund",
        idempotency_key="rf1",
        source="admin_refund",
        source_ref="re_1",
        funded_by="cs_test_1",
    )
    session.commit()
    assert drawn_by(session, clawed.entry_id) == {ids["paid"]: -40, ids["other"]: -20}
    assert balance_of(session=session, user_id=user.id).debt == 0

    more = post_clawback(
        session,
        user_id=user.id,
        amount=5,
        reason="dispute",
        idempotency_key="dp1",
        source="admin_dispute",
        source_ref="dp_1",
        funded_by="cs_test_1",
    )
    session.commit()
    balance = balance_of(session=session, user_id=user.id)
    assert (more.balance, balance.debt) == (0, 5)
    # A later grant settles the debt first, from its own lot.
    grant(session, user.id, 8, "after")
    assert remaining(session, user.id)["after"] == 3
    assert balance_of(session=session, user_id=user.id).debt == 0
    assert check_ledger(session=session) == []


def test_a_plan_period_rolls_over_up_to_its_cap(session):
    user = make_user(session)
    start = utcnow() - DAY
    end = start + 30 * DAY
    grant(session, user.id, 1000, "period", effective_at=start, expires_at=end, rollover_max=300)
    spend(session, user.id, 600, "s1")

    assert expire_due_lots(session=session, now=end) == 1
    lots = live_lots(session, user.id, now=end)
    assert [(lot.remaining, lot.source, lot.expires_at) for lot in lots] == [
        (300, "rollover", end + 30 * DAY)
    ]
    expired = (
        session.exec(select(LedgerEntry.delta).where(LedgerEntry.kind == EntryKind.EXPIRE))
        .scalars()
        .all()
    )
    assert expired == [-400]
    assert check_ledger(session=session) == []


def test_next_expiry_sums_the_lots_that_end_first(session):
    user = make_user(session)
    first = datetime(2099, 12, 31, tzinfo=UTC)
    grant(session, user.id, 200, "a", expires_at=first)
    grant(session, user.id, 100, "b", expires_at=first, category="promotional")
    grant(session, user.id, 50, "c", expires_at=first + DAY)
    grant(session, user.id, 70, "d")
    soonest = next_expiry(live_lots(session, user.id))
    assert (soonest.at, soonest.credits) == (first, 300)


@pytest.mark.parametrize(
    ("start", "policy", "expected"),
    [
        (datetime(2027, 1, 31, 12, tzinfo=UTC), "P1M", datetime(2027, 2, 28, 12, tzinfo=UTC)),
        (datetime(2028, 1, 31, 12, tzinfo=UTC), "P1M", datetime(2028, 2, 29, 12, tzinfo=UTC)),
        (datetime(2027, 3, 31, tzinfo=UTC), "P1M", datetime(2027, 4, 30, tzinfo=UTC)),
        (datetime(2027, 12, 15, tzinfo=UTC), "P1M", datetime(2028, 1, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), "P1Y", datetime(2029, 2, 28, tzinfo=UTC)),
        # Europe's clocks change on 28 March 2027; in UTC a day is still 24 hours.
        (datetime(2027, 3, 27, 12, tzinfo=UTC), "P1D", datetime(2027, 3, 28, 12, tzinfo=UTC)),
        (datetime(2027, 3, 27, 12, tzinfo=UTC), "PT36H", datetime(2027, 3, 29, tzinfo=UTC)),
        (datetime(2027, 1, 1, tzinfo=UTC), None, None),
    ],
)
def test_expiry_policies_are_calendar_exact(start, policy, expected):
    assert expiry_of(policy, start, None) == expected


def test_policies_are_read_strictly():
    assert parse_policy("p1y") == ("P1Y", None)
    assert parse_policy("period") == ("period", None)
    assert parse_policy("never") == (None, None)
    assert parse_policy(None) == (None, None)
    for bad in ("1Y", "P", "PT", "P0D", "P1.5Y", "soon", "P-1D"):
        policy, problem = parse_policy(bad)
        assert policy is None and problem, bad
    assert add_months(datetime(2027, 5, 31, tzinfo=UTC), -3) == datetime(2027, 2, 28, tzinfo=UTC)
