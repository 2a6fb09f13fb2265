"""Reserve, capture and release: what each does to the balance, and every misuse error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from credits_app.models import CreditHold, EntryKind, LedgerEntry, UsageEvent, utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.errors import (
    IdempotencyConflict,
    InsufficientCredits,
    InvalidRequest,
    UserNotFound,
)
from credits_app.services.holds import (
    AmountExceedsHold,
    HoldNotActive,
    HoldNotFound,
    active_holds,
    capture,
    release,
    reserve,
)
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import spend_credits
from tests.support.factories import make_user


def _reserve(session, user_id, amount, key="r1", feature="ai", ttl=300):
    return reserve(
        session=session,
        user_id=user_id,
        amount=amount,
        feature=feature,
        idempotency_key=key,
        ttl_seconds=ttl,
    )


def test_reserve_lowers_available_but_not_balance(session):
    user = make_user(session, credits=100)

    hold = _reserve(session, user.id, 30)

    assert (hold.reserved, hold.balance, hold.available, hold.replayed) == (30, 100, 70, False)
    assert hold.expires_at > utcnow() + timedelta(seconds=290)
    balance = balance_of(session=session, user_id=user.id)
    assert (balance.balance, balance.held, balance.available) == (100, 30, 70)
    assert [h.hold_id for h in active_holds(session=session, user_id=user.id)] == [hold.hold_id]
    assert check_ledger(session=session) == []


def test_capture_spends_actual_and_releases_the_rest(session):
    user = make_user(session, credits=100)
    hold = _reserve(session, user.id, 30)

    done = capture(
        session=session, user_id=user.id, hold_id=hold.hold_id, amount=12, idempotency_key="c1"
    )

    assert (done.status, done.captured, done.released) == ("captured", 12, 18)
    assert (done.balance, done.available) == (88, 88)
    entry = session.get(LedgerEntry, done.entry_id)
    assert (entry.kind, entry.delta, entry.held_delta, entry.feature) == ("capture", -12, -30, "ai")
    usage = session.exec(select(UsageEvent).where(UsageEvent.entry_id == done.entry_id)).one()
    assert (usage.credits, usage.feature) == (12, "ai")
    assert active_holds(session=session, user_id=user.id) == []
    assert check_ledger(session=session) == []


def test_capture_of_the_whole_hold(session):
    user = make_user(session, credits=30)
    hold = _reserve(session, user.id, 30)

    done = capture(
        session=session, user_id=user.id, hold_id=hold.hold_id, amount=30, idempotency_key="c"
    )

    assert (done.balance, done.available, done.released) == (0, 0, 0)
    assert check_ledger(session=session) == []


def test_release_returns_everything(session):
    user = make_user(session, credits=100)
    hold = _reserve(session, user.id, 40)

    done = release(session=session, user_id=user.id, hold_id=hold.hold_id, idempotency_key="x1")

    assert (done.status, done.captured, done.released) == ("released", 0, 40)
    assert (done.balance, done.available) == (100, 100)
    assert check_ledger(session=session) == []


def test_reserve_beyond_available_is_refused_and_writes_nothing(session):
    user = make_user(session, credits=50)
    _reserve(session, user.id, 40, key="a")

    with pytest.raises(InsufficientCredits) as caught:
        _reserve(session, user.id, 11, key="b")

    assert (caught.value.balance, caught.value.required) == (10, 11)
    with pytest.raises(InsufficientCredits):
        spend_credits(session=session, user_id=user.id, amount=11, feature="x", idempotency_key="s")
    assert balance_of(session=session, user_id=user.id).available == 10
    assert len(active_holds(session=session, user_id=user.id)) == 1


@pytest.mark.parametrize(
    ("first", "second", "error", "code"),
    [
        ("release", "capture", HoldNotActive, "hold_not_active"),
        ("capture", "release", HoldNotActive, "hold_not_active"),
        ("capture", "capture", HoldNotActive, "hold_not_active"),
        ("release", "release", HoldNotActive, "hold_not_active"),
    ],
)
def test_a_hold_resolves_only_once(session, first, second, error, code):
    user = make_user(session, credits=100)
    hold = _reserve(session, user.id, 20)
    _settle(session, first, user.id, hold.hold_id, "k1")

    with pytest.raises(error) as caught:
        _settle(session, second, user.id, hold.hold_id, "k2")

    assert caught.value.code == code
    assert caught.value.http_status == 409
    assert caught.value.details()["status"] == ("captured" if first == "capture" else "released")
    expected = 95 if first == "capture" else 100
    assert balance_of(session=session, user_id=user.id).balance == expected
    assert check_ledger(session=session) == []


def _settle(session, how, user_id, hold_id, key, amount=5):
    if how == "capture":
        return capture(
            session=session, user_id=user_id, hold_id=hold_id, amount=amount, idempotency_key=key
        )
    return release(session=session, user_id=user_id, hold_id=hold_id, idempotency_key=key)


def test_capture_above_the_reserved_amount_is_refused(session):
    user = make_user(session, credits=100)
    hold = _reserve(session, user.id, 20)

    with pytest.raises(AmountExceedsHold) as caught:
        _settle(session, "capture", user.id, hold.hold_id, "c", amount=21)

    assert caught.value.code == "amount_exceeds_hold"
    assert caught.value.details() == {"holdId": hold.hold_id, "reserved": 20, "requested": 21}
    # The hold is untouched and can still be captured correctly.
    assert _settle(session, "capture", user.id, hold.hold_id, "c", amount=20).captured == 20


def test_another_users_hold_looks_like_no_hold(session):
    owner = make_user(session, credits=100)
    other = make_user(session, credits=100)
    hold = _reserve(session, owner.id, 20)

    for how in ("capture", "release"):
        with pytest.raises(HoldNotFound) as caught:
            _settle(session, how, other.id, hold.hold_id, "k")
        assert caught.value.code == "not_found"
    with pytest.raises(HoldNotFound):
        _settle(session, "release", owner.id, 999_999, "k")
    with pytest.raises(HoldNotFound):
        _settle(session, "release", owner.id, "1", "k")
    assert balance_of(session=session, user_id=owner.id).held == 20


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": "5"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 5.0}, "amount"),
        ({"feature": ""}, "feature"),
        ({"idempotency_key": ""}, "idempotencyKey"),
        ({"ttl_seconds": 0}, "ttlSeconds"),
        ({"ttl_seconds": 86401}, "ttlSeconds"),
        ({"ttl_seconds": 1.5}, "ttlSeconds"),
    ],
)
def test_bad_reserve_input_is_refused_and_writes_nothing(session, changes, field):
    user = make_user(session, credits=100)
    values = {"amount": 5, "feature": "ai", "idempotency_key": "k", "ttl_seconds": 60, **changes}

    with pytest.raises(InvalidRequest) as caught:
        reserve(session=session, user_id=user.id, **values)

    assert caught.value.field == field
    assert balance_of(session=session, user_id=user.id).held == 0


def test_reserve_for_an_unknown_user(session):
    with pytest.raises(UserNotFound):
        _reserve(session, 424242, 5)


def test_replays_return_the_original_results(session):
    user = make_user(session, credits=100)
    first = _reserve(session, user.id, 30, key="r")
    again = _reserve(session, user.id, 30, key="r")
    assert again.replayed and (again.hold_id, again.available) == (first.hold_id, 70)

    captured = _settle(session, "capture", user.id, first.hold_id, "c", amount=10)
    replay = _settle(session, "capture", user.id, first.hold_id, "c", amount=10)
    assert replay.replayed
    assert (replay.entry_id, replay.captured, replay.balance) == (captured.entry_id, 10, 90)
    # A reserve replay after the hold resolved still answers with the original hold.
    assert _reserve(session, user.id, 30, key="r").hold_id == first.hold_id

    second = _reserve(session, user.id, 5, key="r2")
    released = _settle(session, "release", user.id, second.hold_id, "x")
    assert _settle(session, "release", user.id, second.hold_id, "x").entry_id == released.entry_id
    assert balance_of(session=session, user_id=user.id).balance == 90
    holds = session.exec(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.HOLD)).all()
    assert len(holds) == 2
    assert check_ledger(session=session) == []


def test_a_reused_key_with_other_values_is_a_conflict(session):
    user = make_user(session, credits=100)
    first = _reserve(session, user.id, 30, key="r")
    second = _reserve(session, user.id, 10, key="r2")

    with pytest.raises(IdempotencyConflict) as caught:
        _reserve(session, user.id, 31, key="r", feature="other")
    assert caught.value.fields == ["amount", "feature"]

    _settle(session, "capture", user.id, first.hold_id, "c", amount=10)
    with pytest.raises(IdempotencyConflict) as caught:
        _settle(session, "capture", user.id, first.hold_id, "c", amount=11)
    assert caught.value.fields == ["amount"]
    with pytest.raises(IdempotencyConflict) as caught:
        _settle(session, "capture", user.id, second.hold_id, "c", amount=10)
    assert caught.value.fields == ["holdId", "amount"] or caught.value.fields == ["holdId"]
    assert balance_of(session=session, user_id=user.id).held == 10


def test_spend_is_limited_by_holds(session):
    user = make_user(session, credits=100)
    _reserve(session, user.id, 90)

    spend_credits(session=session, user_id=user.id, amount=10, feature="x", idempotency_key="s1")

    with pytest.raises(InsufficientCredits):
        spend_credits(session=session, user_id=user.id, amount=1, feature="x", idempotency_key="s2")
    assert check_ledger(session=session) == []


@pytest.mark.ledger_corrupted("marks a hold captured behind the service's back")
def test_the_check_notices_a_hold_whose_entries_disagree(session):
    user = make_user(session, credits=100)
    hold = _reserve(session, user.id, 20)
    # Corrupt the hold behind the service's back: marked captured, yet no capture entry.
    session.exec(update(CreditHold).where(CreditHold.id == hold.hold_id).values(status="captured"))
    session.commit()

    problems = check_ledger(session=session)

    assert any(f"hold {hold.hold_id} (captured)" in p for p in problems)
    assert any("active holds total 0" in p for p in problems)
