"""Credit lots at their edges: the instant a lot ends or starts, sweeps racing requests,
plan periods missed twice, credits restored after their end, and what replays and reads say.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import CreditLot, EntryKind, LedgerEntry, LotAllocation
from credits_app.services.accounts import balance_of
from credits_app.services.errors import InsufficientCredits, InvalidRequest
from credits_app.services.holds import capture, release, reserve
from credits_app.services.holds.expiry import expire_due, expire_due_lots
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import LotTerms, grant_credits, post_clawback, spend_credits
from credits_app.services.lots import hold_pins, live_lots
from tests.support.factories import make_user

T = datetime(2031, 1, 31, 12, tzinfo=UTC)  # "now" in these tests; nothing here sleeps
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)


def grant(session, user_id, amount, name, now=T - DAY, **terms) -> int:
    """Grant a lot named `name` at `now`; return the lot's id."""
    result = grant_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=name,
        idempotency_key=f"grant-{name}",
        terms=LotTerms(**terms),
        now=now,
    )
    return session.exec(
        select(CreditLot.id).where(CreditLot.entry_id == result.entry_id)
    ).scalar_one()


def spend(session, user_id, amount, key, now):
    return spend_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        feature="ai-generation",
        idempotency_key=key,
        now=now,
    )


def hold(session, user_id, amount, key, now, ttl=300):
    return reserve(
        session=session,
        user_id=user_id,
        amount=amount,
        feature="ai-generation",
        idempotency_key=key,
        ttl_seconds=ttl,
        now=now,
    )


def drawn_by(session, entry_id: int) -> dict[int, int]:
    query = select(LotAllocation.lot_id, LotAllocation.amount).where(
        LotAllocation.entry_id == entry_id
    )
    return dict(session.exec(query).all())


def lot_expiries(session, lot_id: int) -> list[int]:
    """The deltas of the `expire` entries of a lot (its first one and any later ones)."""
    query = (
        select(LedgerEntry.delta)
        .where(
            LedgerEntry.kind == EntryKind.EXPIRE,
            LedgerEntry.source == "lot",
            (LedgerEntry.source_ref == f"lot:{lot_id}")
            | LedgerEntry.source_ref.startswith(f"lot:{lot_id}:"),
        )
        .order_by(LedgerEntry.id)
    )
    return list(session.exec(query).scalars())


def remaining(session, lot_id: int) -> int:
    return session.get(CreditLot, lot_id).remaining


def pins(session, hold_id: int) -> list[tuple[int, int]]:
    return [(pin.id, -pin.pinned) for pin in hold_pins(session, hold_id)]


def read(session, user_id, now) -> tuple[int, int, int, int, int]:
    """(balance, held, debt, waiting, available) as a read at `now` shows them."""
    b = balance_of(session=session, user_id=user_id, now=now)
    return b.balance, b.held, b.debt, b.waiting, b.available


# Exactly at the edges of a window


def test_a_reserve_exactly_at_expires_at_pins_only_lots_still_running(session):
    user = make_user(session)
    ends = grant(session, user.id, 10, "ends", expires_at=T)
    stays = grant(session, user.id, 10, "stays")

    just_before = hold(session, user.id, 4, "h-before", now=T - TICK)
    assert pins(session, just_before.hold_id) == [(ends, 4)]
    at_the_end = hold(session, user.id, 8, "h-at", now=T)
    assert pins(session, at_the_end.hold_id) == [(stays, 8)]
    assert lot_expiries(session, ends) == [-6]  # what the first hold did not pin
    with pytest.raises(InsufficientCredits) as refused:
        hold(session, user.id, 3, "h-too-much", now=T)
    assert refused.value.balance == 2
    assert (at_the_end.balance, at_the_end.available) == (14, 2)  # 4 + 8 held, 2 free
    assert check_ledger(session=session) == []


def test_a_hold_reserved_before_a_lot_starts_never_pins_or_returns_to_it(session):
    user = make_user(session)
    now_lot = grant(session, user.id, 10, "now")
    later = grant(session, user.id, 50, "later", effective_at=T)

    with pytest.raises(InsufficientCredits) as refused:
        hold(session, user.id, 11, "h-too-early", now=T - TICK)
    assert refused.value.balance == 10
    early = hold(session, user.id, 8, "h-early", now=T - TICK)
    assert pins(session, early.hold_id) == [(now_lot, 8)]
    assert (early.balance, early.available) == (60, 2)  # 50 waiting, 8 held

    # The lot has started by the time the hold is captured: the rest goes back where it was.
    done = capture(
        session=session,
        user_id=user.id,
        hold_id=early.hold_id,
        amount=5,
        idempotency_key="c-early",
        now=T,
    )
    assert drawn_by(session, done.entry_id) == {now_lot: 3}
    assert (remaining(session, now_lot), remaining(session, later)) == (5, 50)
    assert done.available == 55
    assert drawn_by(session, spend(session, user.id, 7, "s", now=T).entry_id) == {
        now_lot: -5,
        later: -2,
    }
    assert check_ledger(session=session) == []


def test_a_lot_that_starts_later_and_ends_is_spendable_only_inside_its_window(session):
    user = make_user(session)
    starts, ends = T + DAY, T + 2 * DAY
    lot = grant(session, user.id, 30, "window", now=T, effective_at=starts, expires_at=ends)

    assert read(session, user.id, T) == (30, 0, 0, 30, 0)
    with pytest.raises(InsufficientCredits):
        spend(session, user.id, 1, "too-early", now=starts - TICK)
    assert lot_expiries(session, lot) == []  # waiting is not ending
    spend(session, user.id, 12, "inside", now=starts)
    assert read(session, user.id, ends - TICK) == (18, 0, 0, 0, 18)
    assert read(session, user.id, ends) == (0, 0, 0, 0, 0)  # before anything is written
    with pytest.raises(InsufficientCredits):
        spend(session, user.id, 1, "too-late", now=ends)
    assert lot_expiries(session, lot) == [-18]
    assert expire_due_lots(session=session, now=ends + DAY) == 0
    assert check_ledger(session=session) == []


def test_a_lot_whose_whole_window_passed_unseen_expires_whole_in_the_sweep(session):
    user = make_user(session)
    lot = grant(session, user.id, 25, "unseen", now=T, effective_at=T + DAY, expires_at=T + 2 * DAY)

    assert read(session, user.id, T + 3 * DAY) == (0, 0, 0, 0, 0)
    assert expire_due(session=session, now=T + 3 * DAY) == (0, 1)
    assert lot_expiries(session, lot) == [-25]
    assert check_ledger(session=session) == []


# Sweepers and requests racing for the same due lot


@pytest.mark.parametrize("sweepers", [1, 4])
def test_sweepers_and_requests_racing_for_a_due_lot_expire_it_once(engine, sweepers):
    with Session(engine) as session:
        user = make_user(session)
        lot = grant(session, user.id, 40, "due", expires_at=T)
        grant(session, user.id, 8, "kept")
    barrier = threading.Barrier(8)

    def sweep(_: int) -> int:
        barrier.wait()
        with Session(engine) as session:
            return expire_due_lots(session=session, now=T)

    def request(n: int) -> int:
        barrier.wait()
        with Session(engine) as session:
            spend(session, user.id, 1, f"race-{n}", now=T)
        return 0

    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(sweep if n < sweepers else request, n) for n in range(8)]
        swept = sum(job.result() for job in jobs)

    with Session(engine) as session:
        assert lot_expiries(session, lot) == [-40]
        assert swept <= 1
        assert read(session, user.id, T) == (sweepers, 0, 0, 0, sweepers)  # 8 - requests
        assert check_ledger(session=session) == []


# Plan periods that roll over


def _period(session, user_id, start, length, spent: int) -> int:
    lot = grant(
        session,
        user_id,
        1000,
        "period",
        now=start,
        source="plan_period",
        effective_at=start,
        expires_at=start + length,
        rollover_max=300,
    )
    spend(session, user_id, spent, "in-period", now=start + DAY)
    return lot


def test_a_rollover_already_due_when_the_user_returns_after_two_periods_expires_at_once(session):
    user = make_user(session)
    start, length = T, timedelta(days=30)
    period = _period(session, user.id, start, length, spent=600)
    back = start + 3 * length  # the period and the one its rollover covered are both over

    assert read(session, user.id, back) == (0, 0, 0, 0, 0)
    with pytest.raises(InsufficientCredits):
        spend(session, user.id, 1, "on-return", now=back)
    written = session.exec(
        select(LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.source_ref)
        .where(LedgerEntry.user_id == user.id, LedgerEntry.kind != EntryKind.SPEND)
        .order_by(LedgerEntry.id)
    ).all()
    rollover = session.exec(
        select(CreditLot).where(CreditLot.user_id == user.id, CreditLot.source == "rollover")
    ).scalar_one()
    assert (rollover.amount, rollover.effective_at, rollover.expires_at) == (
        300,
        start + length,
        start + 2 * length,
    )
    assert written[1:] == [
        ("expire", -400, f"lot:{period}"),
        ("grant", 300, f"lot:{period}"),
        ("expire", -300, f"lot:{rollover.id}"),
    ]
    assert expire_due(session=session, now=back + DAY) == (0, 0)  # nothing rolls on again
    assert check_ledger(session=session) == []


def test_a_read_before_the_sweep_counts_the_rollover_and_the_debt_it_settles(session):
    user = make_user(session)
    start, length = T, timedelta(days=30)
    _period(session, user.id, start, length, spent=600)
    # A refund while the rest is held cannot take it: it becomes debt, which stays when the
    # hold is released (only a grant settles debt).
    now = start + 2 * DAY
    held = hold(session, user.id, 400, "h", now=now)
    post_clawback(
        session,
        user_id=user.id,
        amount=50,
        reason="refund",
        idempotency_key="refund",
        source="test_refund",
        source_ref="re_boundary",
        now=now,
    )
    session.commit()
    release(session=session, user_id=user.id, hold_id=held.hold_id, idempotency_key="r", now=now)
    assert read(session, user.id, now) == (400, 0, 50, 0, 400)

    later = start + length + DAY  # the period ended; its rollover (300) runs and pays the 50
    assert read(session, user.id, later) == (250, 0, 0, 0, 250)
    assert expire_due(session=session, now=later) == (0, 1)
    assert read(session, user.id, later) == (250, 0, 0, 0, 250)
    assert check_ledger(session=session) == []


def test_a_rollover_that_ended_before_the_user_came_back_still_pays_their_debt(session):
    """The same as if a sweep had rolled the period over on time and paid the debt then."""
    user = make_user(session)
    start, length = T, timedelta(days=30)
    _period(session, user.id, start, length, spent=600)
    now = start + 2 * DAY
    held = hold(session, user.id, 400, "h", now=now)
    post_clawback(
        session,
        user_id=user.id,
        amount=120,
        reason="refund",
        idempotency_key="refund",
        source="test_refund",
        source_ref="re_away",
        now=now,
    )
    session.commit()
    release(session=session, user_id=user.id, hold_id=held.hold_id, idempotency_key="r", now=now)
    back = start + 3 * length

    assert read(session, user.id, back) == (0, 0, 0, 0, 0)
    assert expire_due(session=session, now=back) == (0, 2)
    rollover = session.exec(
        select(CreditLot).where(CreditLot.user_id == user.id, CreditLot.source == "rollover")
    ).scalar_one()
    assert (rollover.amount, rollover.remaining) == (300, 0)
    assert lot_expiries(session, rollover.id) == [-180]  # what was left once 120 were repaid
    assert read(session, user.id, back) == (0, 0, 0, 0, 0)
    assert check_ledger(session=session) == []


# Credits restored after their end


def test_credits_restored_after_their_lot_would_have_ended_expire_at_once(session):
    user = make_user(session)
    grant(session, user.id, 5, "other")
    ended = T - DAY
    result = grant_credits(
        session=session,
        user_id=user.id,
        amount=40,
        reason="dispute won",
        idempotency_key="restore",
        terms=LotTerms(source="restore", expires_at=ended, funded_by="cs_test_old"),
        now=T,
    )
    lot = session.exec(select(CreditLot).where(CreditLot.entry_id == result.entry_id)).scalar_one()
    assert (lot.effective_at, lot.expires_at, lot.remaining) == (ended - TICK, ended, 0)
    assert lot_expiries(session, lot.id) == [-40]
    assert (result.balance, result.available) == (5, 5)
    assert check_ledger(session=session) == []


def test_credits_restored_after_their_end_pay_the_debt_their_clawback_made(session):
    """A dispute won after the credits would have expired: the payment stands, nothing is owed."""
    user = make_user(session)
    grant(session, user.id, 100, "bought", T - 3 * DAY, expires_at=T - DAY, funded_by="cs_test_won")
    spend(session, user.id, 100, "all-of-it", now=T - 2 * DAY)
    post_clawback(
        session,
        user_id=user.id,
        amount=100,
        reason="dispute",
        idempotency_key="dispute",
        source="test_dispute",
        source_ref="dp_won",
        now=T - 2 * DAY,
        funded_by="cs_test_won",
    )
    session.commit()
    assert read(session, user.id, T) == (0, 0, 100, 0, 0)

    restored = grant_credits(
        session=session,
        user_id=user.id,
        amount=100,
        reason="dispute won",
        idempotency_key="won",
        terms=LotTerms(source="restore", expires_at=T - DAY, funded_by="cs_test_won"),
        now=T,
    )
    assert read(session, user.id, T) == (0, 0, 0, 0, 0)
    lot = session.exec(
        select(CreditLot).where(CreditLot.entry_id == restored.entry_id)
    ).scalar_one()
    assert lot.remaining == 0
    assert drawn_by(session, restored.entry_id) == {lot.id: -100}
    assert lot_expiries(session, lot.id) == []  # nothing was left to expire
    assert check_ledger(session=session) == []


def test_a_grant_that_starts_later_pays_debt_at_once_and_waits_with_the_rest(session):
    user = make_user(session)
    post_clawback(
        session,
        user_id=user.id,
        amount=15,
        reason="refund",
        idempotency_key="refund",
        source="test_refund",
        source_ref="re_later",
        now=T,
    )
    session.commit()
    result = grant_credits(
        session=session,
        user_id=user.id,
        amount=40,
        reason="next month",
        idempotency_key="later",
        terms=LotTerms(effective_at=T + DAY),
        now=T,
    )
    assert (result.balance, result.available) == (25, 0)
    assert read(session, user.id, T) == (25, 0, 0, 25, 0)
    again = grant_credits(
        session=session,
        user_id=user.id,
        amount=40,
        reason="next month",
        idempotency_key="later",
        terms=LotTerms(effective_at=T + DAY),
        now=T,
    )
    assert (again.balance, again.available, again.replayed) == (25, 0, True)
    assert spend(session, user.id, 25, "s", now=T + DAY).available == 0
    assert check_ledger(session=session) == []


@pytest.mark.parametrize("back", [timedelta(0), TICK, DAY])
def test_a_lot_that_would_end_before_it_starts_is_refused_and_nothing_is_written(session, back):
    user = make_user(session)
    with pytest.raises(InvalidRequest) as refused:
        grant(session, user.id, 10, "empty", now=T, effective_at=T + DAY, expires_at=T + DAY - back)
    assert refused.value.field == "expiresAt"
    entries = select(func.count()).where(LedgerEntry.user_id == user.id)
    assert session.exec(entries).scalar_one() == 0


# Holds that ran out before the next write


def test_a_clawback_takes_the_credits_a_hold_that_ran_out_was_keeping(session):
    user = make_user(session)
    grant(session, user.id, 10, "paid", funded_by="cs_test_hold")
    hold(session, user.id, 10, "h", now=T - timedelta(minutes=10), ttl=60)

    result = post_clawback(
        session,
        user_id=user.id,
        amount=10,
        reason="refund",
        idempotency_key="refund",
        source="test_refund",
        source_ref="re_after_hold",
        now=T,
        funded_by="cs_test_hold",
    )
    session.commit()
    assert (result.balance, result.available) == (0, 0)
    assert read(session, user.id, T) == (0, 0, 0, 0, 0)  # no debt: the credits were free
    assert check_ledger(session=session) == []


def test_a_read_leaves_out_what_a_hold_that_ran_out_pins_in_a_lot_that_ended(session):
    user = make_user(session)
    short = grant(session, user.id, 10, "short", expires_at=T)
    long = grant(session, user.id, 5, "long")
    held = hold(session, user.id, 12, "h", now=T - timedelta(seconds=30), ttl=60)
    assert pins(session, held.hold_id) == [(short, 10), (long, 2)]

    later = T + timedelta(minutes=5)  # the lot ended, then the hold ran out; nothing written
    assert read(session, user.id, later) == (5, 0, 0, 0, 5)
    assert expire_due(session=session, now=later) == (1, 0)
    assert read(session, user.id, later) == (5, 0, 0, 0, 5)
    assert remaining(session, long) == 5
    assert lot_expiries(session, short) == [-10]  # given back by the hold, then expired
    assert check_ledger(session=session) == []


def test_the_sweep_counts_the_lots_it_expires_with_a_users_holds(session):
    user = make_user(session)
    grant(session, user.id, 10, "ends", expires_at=T + timedelta(seconds=60))
    hold(session, user.id, 4, "h", now=T, ttl=30)

    assert expire_due(session=session, now=T + timedelta(seconds=120)) == (1, 1)
    assert check_ledger(session=session) == []


# What results say while credits wait for their lot to start


def test_results_and_their_replays_leave_out_credits_that_wait_for_their_lot(session):
    user = make_user(session)
    grant(session, user.id, 10, "now")
    grant(session, user.id, 30, "later", effective_at=T + DAY)

    spent = spend(session, user.id, 4, "s", now=T)
    again = spend(session, user.id, 4, "s", now=T)
    assert (spent.available, again.available, again.replayed) == (6, 6, True)
    held = hold(session, user.id, 2, "h", now=T)
    held_again = hold(session, user.id, 2, "h", now=T)
    assert (held.available, held_again.available, held_again.replayed) == (4, 4, True)
    common = {"session": session, "user_id": user.id, "hold_id": held.hold_id, "now": T}
    done = release(**common, idempotency_key="r")
    done_again = release(**common, idempotency_key="r")
    assert (done.available, done_again.available, done_again.replayed) == (6, 6, True)
    granted = grant_credits(
        session=session,
        user_id=user.id,
        amount=5,
        reason="soon",
        idempotency_key="grant-soon",
        terms=LotTerms(effective_at=T + DAY),
        now=T,
    )
    granted_again = grant_credits(
        session=session,
        user_id=user.id,
        amount=5,
        reason="soon",
        idempotency_key="grant-soon",
        terms=LotTerms(effective_at=T + DAY),
        now=T,
    )
    assert (granted.available, granted_again.available, granted_again.replayed) == (6, 6, True)
    assert read(session, user.id, T) == (41, 0, 0, 35, 6)
    assert check_ledger(session=session) == []


def test_a_user_with_many_lots_spends_across_pages_of_them_in_burn_order(session):
    """More lots than one read of the burn order covers, with a refund's lots first."""
    user = make_user(session)
    ids = [grant(session, user.id, 3, f"lot-{n}", expires_at=T + (n + 1) * DAY) for n in range(20)]
    funded = grant(session, user.id, 3, "funded", funded_by="cs_test_pages")
    taken = post_clawback(
        session,
        user_id=user.id,
        amount=40,
        reason="refund",
        idempotency_key="refund",
        source="test_refund",
        source_ref="re_pages",
        now=T,
        funded_by="cs_test_pages",
    )
    session.commit()
    assert drawn_by(session, taken.entry_id) == {
        funded: -3,
        **{lot: -3 for lot in ids[:12]},
        ids[12]: -1,
    }
    spent = spend(session, user.id, 20, "s", now=T)
    assert drawn_by(session, spent.entry_id) == {
        ids[12]: -2,
        **{lot: -3 for lot in ids[13:19]},
    }
    assert [lot.id for lot in live_lots(session, user.id, now=T)] == [ids[19]]
    assert check_ledger(session=session) == []
