"""Grant, spend and claw back credits: the top of the ledger core.

Every write is one transaction under the account lock: due lots and holds expire first, then
the write draws from (or adds) lots and posts one journal entry. Two writers can never both
take the last credit, on SQLite or PostgreSQL, in one process or many. An idempotency key is
unique per (account, kind) forever: a retry finds the original entry and replays it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import EntryKind, utcnow
from credits_app.services.accounts import lock_account, waiting_after
from credits_app.services.errors import InsufficientCredits
from credits_app.services.holds.store import expire_due, locked_unit
from credits_app.services.journal import (
    AccountState,
    LedgerResult,
    Movement,
    find_entry,
    post,
    record_usage,
    replay_entry,
    result_of,
    write_once,
)
from credits_app.services.lots import (
    LotTerms,
    apply_draws,
    expire_due_lots,
    grant_lot,
    lot_window,
    plan_draw,
    take,
)
from credits_app.services.validation import (
    validate_amount,
    validate_feature,
    validate_key,
    validate_reason,
)

__all__ = [
    "LedgerResult",
    "LotTerms",
    "find_entry",
    "grant_credits",
    "post_clawback",
    "post_grant",
    "record_usage",
    "replay_entry",
    "spend_credits",
]


def post_grant(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str,
    source_ref: str | None = None,
    actor_user_id: int | None = None,
    now: datetime | None = None,
    terms: LotTerms | None = None,
) -> LedgerResult:
    """Add credits as a new lot inside the caller's transaction (no commit).

    Like every write, it first expires what ran out (lots, then holds). Debt is settled
    first from a lot that can be spent now. `terms` set the lot's category, priority,
    window and funding (default: paid, never expiring, from now).

    Raises:
        InvalidRequest: For a bad amount, reason or key, or a window that ends before it
            starts.
        UserNotFound: When the user does not exist.
        IntegrityError: When the key or the source was used already (caller decides).
    """
    move = Movement(
        kind=EntryKind.GRANT,
        amount=validate_amount(amount),
        key=validate_key(idempotency_key),
        source=source,
        source_ref=source_ref,
        reason=validate_reason(reason),
        actor_user_id=actor_user_id,
    )
    now = now or utcnow()
    terms = terms or LotTerms()
    lot_window(terms, now)  # refuse an empty window before locking anything
    state = lock_account(session, user_id, now)
    expire_due(session, state, now)
    entry_id, _ = grant_lot(session, state, move, terms, now)
    # A lot whose end has passed already (credits restored after they would have expired)
    # expires at once, in the same transaction.
    expire_due_lots(session, state, now)
    return result_of(state, entry_id)


def post_clawback(
    session: Session,
    *,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str,
    source_ref: str | None = None,
    now: datetime | None = None,
    funded_by: str | None = None,
) -> LedgerResult:
    """Take credits back inside the caller's transaction (no commit).

    Like every write, it first expires what ran out (lots, then holds, whose credits can
    then be taken). Credits come from the lots `funded_by` (the Stripe object that paid for
    them) first, then from the others in burn order. What the user already spent (or holds)
    cannot be taken; that part is recorded as debt, which the next grant settles first. The
    balance never goes below zero.
    """
    amount = validate_amount(amount)
    reason = validate_reason(reason)
    key = validate_key(idempotency_key)
    now = now or utcnow()
    state = lock_account(session, user_id, now)
    expire_due(session, state, now)
    plan = plan_draw(session, state, amount, now, first=funded_by)
    move = Movement(
        kind=EntryKind.CLAWBACK,
        amount=amount,
        key=key,
        source=source,
        source_ref=source_ref,
        reason=reason,
        delta=-plan.taken,
        debt_delta=plan.shortfall,
    )
    entry_id = post(session, state, move, now)
    apply_draws(session, plan.draws, entry_id=entry_id)
    return result_of(state, entry_id)


def grant_credits(
    *,
    session: Session,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str = "admin",
    actor_user_id: int | None = None,
    terms: LotTerms | None = None,
    now: datetime | None = None,
) -> LedgerResult:
    """Grant credits to a user as one lot, once per idempotency key.

    `now` is the moment of the grant (default: the current time); lots that start or end
    relative to it are judged at that moment.

    Raises:
        InvalidRequest: For a bad amount, reason or key; nothing is written.
        UserNotFound: When the user does not exist.
        IdempotencyConflict: When the key was used for a different grant.
    """
    request = {"amount": validate_amount(amount), "reason": validate_reason(reason)}
    key = validate_key(idempotency_key)

    def write() -> LedgerResult:
        return post_grant(
            session,
            user_id=user_id,
            amount=amount,
            reason=reason,
            idempotency_key=key,
            source=source,
            actor_user_id=actor_user_id,
            now=now,
            terms=terms,
        )

    return write_once(
        session,
        user_id=user_id,
        kind=EntryKind.GRANT,
        key=key,
        request=request,
        write=write,
        waiting=lambda entry_id: waiting_after(session, entry_id),
    )


def spend_credits(
    *,
    session: Session,
    user_id: int,
    amount: int,
    feature: str,
    idempotency_key: str,
    source: str = "api",
    now: datetime | None = None,
) -> LedgerResult:
    """Spend credits for a feature from lots in burn order, once per key, never below zero.

    Only lots spendable at this moment count (`effective_at <= now < expires_at`), checked
    in the same transaction as the spend.

    Raises:
        InvalidRequest: For a bad amount, feature or key; nothing is written.
        InsufficientCredits: When fewer credits are available than asked for.
        IdempotencyConflict: When the key was used for a different spend.
        UserNotFound: When the user does not exist.
    """
    amount = validate_amount(amount)
    feature = validate_feature(feature)
    key = validate_key(idempotency_key)
    request = {"amount": amount, "feature": feature}
    now = now or utcnow()

    def body(state: AccountState) -> LedgerResult:
        plan = take(session, state, amount, now)
        if plan.shortfall:
            raise InsufficientCredits(available=plan.taken, required=amount)
        move = Movement(
            kind=EntryKind.SPEND,
            amount=amount,
            key=key,
            source=source,
            delta=-amount,
            feature=feature,
        )
        entry_id = post(session, state, move, now)
        connection = state.conn(session)
        apply_draws(session, plan.draws, entry_id=entry_id, moved=plan.moved, connection=connection)
        record_usage(
            session,
            user_id=user_id,
            feature=feature,
            credits=amount,
            entry_id=entry_id,
            now=now,
            connection=connection,
        )
        return result_of(state, entry_id)

    try:
        return locked_unit(session, user_id=user_id, now=now, body=body)
    except (IntegrityError, InsufficientCredits):
        # A reused key replays the original spend, even when credits ran out since; a key
        # that another request committed first (maybe concurrently) replays that one.
        try:
            replayed = replay_entry(
                session,
                user_id=user_id,
                kind=EntryKind.SPEND,
                key=key,
                request=request,
                waiting=lambda entry_id: waiting_after(session, entry_id),
            )
        finally:
            session.rollback()
        if replayed is None:
            raise
        return replayed
