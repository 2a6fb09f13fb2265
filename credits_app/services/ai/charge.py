"""Charge an AI run for the output it delivered: capture it from the hold, or spend it late."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from credits_app.db import read_session, session_scope
from credits_app.services.accounts import balance_of
from credits_app.services.ai.pricing import EXAMPLE_FEATURE
from credits_app.services.errors import CreditsError, InsufficientCredits
from credits_app.services.holds import (
    HoldExpired,
    HoldResult,
    ManagedBy,
    capture,
    release,
    save_result,
)
from credits_app.services.ledger import spend_credits
from credits_app.services.validation import MAX_KEY_LENGTH

logger = logging.getLogger(__name__)
LATE_CHARGE_SOURCE = "ai-run"
LATE_CHARGE_TRIES = 3


@dataclass(frozen=True)
class Charge:
    """What a run paid and the balance after; `unpaid` is delivered output left unpaid."""

    charged: int
    unpaid: int
    balance: int
    available: int


def step_key(key: str, step: str) -> str:
    """The idempotency key of one step of a run (`capture`, `release`) derived from the run's."""
    if len(key) + len(step) + 1 > MAX_KEY_LENGTH:
        # Keep derived keys within the column's limit; a digest is just as unique.
        key = hashlib.sha256(key.encode()).hexdigest()
    return f"{key}:{step}"


def _current(user_id: int, charged: int = 0, unpaid: int = 0) -> Charge:
    with read_session() as session:
        balance = balance_of(session=session, user_id=user_id)
    return Charge(charged, unpaid, balance.balance, balance.available)


def release_run(user_id: int, hold: HoldResult, key: str) -> Charge:
    """Give the whole hold back: nothing was delivered, so nothing is charged."""
    with session_scope() as session:
        try:
            done = release(
                session=session,
                user_id=user_id,
                hold_id=hold.hold_id,
                idempotency_key=step_key(key, "release"),
                managed_by=ManagedBy.AI_RUN,
            )
            return Charge(0, 0, done.balance, done.available)
        except CreditsError:
            pass  # already expired or resolved: either way nothing was charged
    return _current(user_id)


def _charge_late(user_id: int, key: str, cost: int) -> Charge:
    """Spend `cost` once the hold lapsed (the consumer stalled past it).

    The hold gave its credits back when it expired. If the user spent them meanwhile, what
    is left is charged and the rest is reported as `unpaid` (and logged): the balance never
    goes below zero, and the run has stopped producing output by then.
    """
    amount = cost
    with session_scope() as session:
        for _ in range(LATE_CHARGE_TRIES):
            try:
                done = spend_credits(
                    session=session,
                    user_id=user_id,
                    amount=amount,
                    feature=EXAMPLE_FEATURE,
                    idempotency_key=step_key(key, "charge"),
                    source=LATE_CHARGE_SOURCE,
                )
                charge = Charge(amount, cost - amount, done.balance, done.available)
                break
            except InsufficientCredits as short:
                # A failed spend writes nothing, so the key can be tried with less.
                amount = min(cost, short.balance)
                if amount < 1:
                    charge = _current(user_id, 0, cost)
                    break
        else:
            charge = _current(user_id, 0, cost)
    if charge.unpaid:
        logger.warning(
            "AI run %r: its hold lapsed and %d of the %d credits of output it delivered "
            "could not be charged (the user no longer has them)",
            key,
            charge.unpaid,
            cost,
        )
    return charge


def charge_run(
    *, user_id: int, hold: HoldResult, key: str, cost: int, result: str, outcome: str
) -> Charge:
    """Charge a run `cost` for the output `result` it delivered; 0 releases the hold.

    The output and how the run ended are stored first: a duplicate request waits until the
    hold is settled and then replays them. When the hold lapsed (its consumer stalled past
    it), the cost is spent from the balance instead, once (a key derived from the run's).
    """
    if cost < 1:
        return release_run(user_id, hold, key)
    with session_scope() as session:
        save_result(
            session=session, user_id=user_id, hold_id=hold.hold_id, result=result, outcome=outcome
        )
        try:
            done = capture(
                session=session,
                user_id=user_id,
                hold_id=hold.hold_id,
                amount=cost,
                idempotency_key=step_key(key, "capture"),
                managed_by=ManagedBy.AI_RUN,
            )
            return Charge(done.captured, 0, done.balance, done.available)
        except HoldExpired:
            pass
    return _charge_late(user_id, key, cost)
