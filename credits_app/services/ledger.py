"""Grant, spend and claw back credits as append-only ledger entries with idempotency keys.

Every write is one transaction that changes the balance row and appends one entry. Spends use
a conditional UPDATE (`balance - held >= n`), so two writers can never both take the last
credit, on SQLite or PostgreSQL, in one process or many. An idempotency key is unique per
(account, kind) forever: a retry finds the original entry and replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import EntryKind, LedgerEntry, UsageEvent, utcnow
from credits_app.services import balance_events
from credits_app.services.accounts import ACCOUNT_COLUMNS, accounts, balance_of, lock_account
from credits_app.services.errors import IdempotencyConflict, InsufficientCredits
from credits_app.services.validation import (
    validate_amount,
    validate_feature,
    validate_key,
    validate_reason,
)

entries = LedgerEntry.__table__
usage = UsageEvent.__table__

# Built once: compiling statements on every call cost about half of a spend's CPU time.
# Values are passed at execution on the session's connection (the ORM path adds nothing here).
_INSERT_ENTRY = insert(entries).returning(entries.c.id)
_INSERT_USAGE = insert(usage)
_SPEND = (
    update(accounts)
    .where(
        accounts.c.user_id == bindparam("uid"),
        accounts.c.balance - accounts.c.held >= bindparam("amt"),
    )
    .values(balance=accounts.c.balance - bindparam("amt"), updated_at=bindparam("now"))
    .returning(*ACCOUNT_COLUMNS)
)


@dataclass(frozen=True)
class LedgerResult:
    """The outcome of a write: the entry and the balance right after it."""

    entry_id: int
    user_id: int
    balance: int
    available: int
    replayed: bool = False


class _Shortfall(Exception):
    """Internal: the conditional update found too few available credits."""


def find_entry(session: Session, *, user_id: int, kind: str, key: str) -> Row | None:
    """Return the entry written for this user, kind and idempotency key, if any."""
    query = (
        select(entries)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .where(
            accounts.c.user_id == user_id,
            entries.c.kind == kind,
            entries.c.idempotency_key == key,
        )
    )
    return session.exec(query).one_or_none()


def replay_entry(
    session: Session, *, user_id: int, kind: str, key: str, request: dict
) -> LedgerResult | None:
    """Return the original result for a reused key, or None if the key is new.

    Raises:
        IdempotencyConflict: When the key was used for a request with other values.
    """
    row = find_entry(session, user_id=user_id, kind=kind, key=key)
    if row is None:
        return None
    differing = [name for name, value in request.items() if getattr(row, name) != value]
    if differing:
        raise IdempotencyConflict(key, differing)
    available = row.balance_after - row.held_after
    return LedgerResult(row.id, user_id, row.balance_after, available, replayed=True)


def append_entry(session: Session, **values) -> int:
    """Insert one ledger entry (no commit) and return its id."""
    values.setdefault("created_at", utcnow())
    values.setdefault("held_delta", 0)
    values.setdefault("debt_delta", 0)
    return session.connection().execute(_INSERT_ENTRY, values).scalar_one()


def record_usage(
    session: Session, *, user_id: int, feature: str, credits: int, entry_id: int, now: datetime
) -> None:
    """Insert the usage event of a spend or capture entry (no commit)."""
    values = {
        "user_id": user_id,
        "feature": feature,
        "credits": credits,
        "entry_id": entry_id,
        "created_at": now,
    }
    session.connection().execute(_INSERT_USAGE, values)


def _write_once(
    session: Session,
    *,
    user_id: int,
    kind: str,
    key: str,
    request: dict,
    write: Callable[[], LedgerResult],
) -> LedgerResult:
    """Run `write` in its own transaction and commit, or replay when the key was used before.

    A unique-key violation means another request with this key committed first (maybe
    concurrently); the whole transaction is rolled back and that request's result returned.
    """
    try:
        result = write()
        session.commit()
    except IntegrityError:
        session.rollback()
        try:
            replayed = replay_entry(session, user_id=user_id, kind=kind, key=key, request=request)
        finally:
            session.rollback()
        if replayed is None:
            raise
        return replayed
    except BaseException:
        session.rollback()
        raise
    balance_events.publish(balance_events.BalanceChanged(user_id, result.balance, result.available))
    return result


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
) -> LedgerResult:
    """Add credits inside the caller's transaction (no commit); debt is settled first.

    Raises:
        InvalidRequest: For a bad amount, reason or key.
        UserNotFound: When the user does not exist.
        IntegrityError: When the key or the source was used already (caller decides).
    """
    amount = validate_amount(amount)
    reason = validate_reason(reason)
    key = validate_key(idempotency_key)
    now = now or utcnow()
    account = lock_account(session, user_id)
    settled = min(account.debt, amount)
    balance = account.balance + amount - settled
    debt = account.debt - settled
    session.exec(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(balance=balance, debt=debt, updated_at=now)
    )
    entry_id = append_entry(
        session,
        account_id=account.id,
        user_id=user_id,
        kind=EntryKind.GRANT,
        amount=amount,
        delta=amount - settled,
        debt_delta=-settled,
        balance_after=balance,
        held_after=account.held,
        debt_after=debt,
        idempotency_key=key,
        reason=reason,
        source=source,
        source_ref=source_ref,
        actor_user_id=actor_user_id,
        created_at=now,
    )
    return LedgerResult(entry_id, user_id, balance, balance - account.held)


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
) -> LedgerResult:
    """Take credits back inside the caller's transaction (no commit).

    What the user already spent (or holds) cannot be taken; that part is recorded as debt,
    which the next grant settles first. The balance never goes below zero.
    """
    amount = validate_amount(amount)
    reason = validate_reason(reason)
    key = validate_key(idempotency_key)
    now = now or utcnow()
    account = lock_account(session, user_id)
    taken = min(account.balance - account.held, amount)
    balance = account.balance - taken
    debt = account.debt + amount - taken
    session.exec(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(balance=balance, debt=debt, updated_at=now)
    )
    entry_id = append_entry(
        session,
        account_id=account.id,
        user_id=user_id,
        kind=EntryKind.CLAWBACK,
        amount=amount,
        delta=-taken,
        debt_delta=amount - taken,
        balance_after=balance,
        held_after=account.held,
        debt_after=debt,
        idempotency_key=key,
        reason=reason,
        source=source,
        source_ref=source_ref,
        created_at=now,
    )
    return LedgerResult(entry_id, user_id, balance, balance - account.held)


def grant_credits(
    *,
    session: Session,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str = "admin",
    actor_user_id: int | None = None,
) -> LedgerResult:
    """Grant credits to a user, once per idempotency key.

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
        )

    return _write_once(
        session, user_id=user_id, kind=EntryKind.GRANT, key=key, request=request, write=write
    )


def _post_spend(
    session: Session, *, user_id: int, amount: int, feature: str, key: str, source: str
) -> LedgerResult:
    now = utcnow()
    params = {"uid": user_id, "amt": amount, "now": now}
    row = session.connection().execute(_SPEND, params).one_or_none()
    if row is None:
        raise _Shortfall
    entry_id = append_entry(
        session,
        account_id=row.id,
        user_id=user_id,
        kind=EntryKind.SPEND,
        amount=amount,
        delta=-amount,
        balance_after=row.balance,
        held_after=row.held,
        debt_after=row.debt,
        idempotency_key=key,
        feature=feature,
        source=source,
        created_at=now,
    )
    record_usage(
        session, user_id=user_id, feature=feature, credits=amount, entry_id=entry_id, now=now
    )
    return LedgerResult(entry_id, user_id, row.balance, row.balance - row.held)


def _release_lapsed_holds(session: Session, user_id: int) -> int:
    # Imported here: the holds package builds on this module.
    from credits_app.services.holds.expiry import expire_user_holds

    return expire_user_holds(session=session, user_id=user_id)


def spend_credits(
    *,
    session: Session,
    user_id: int,
    amount: int,
    feature: str,
    idempotency_key: str,
    source: str = "api",
) -> LedgerResult:
    """Spend credits for a feature, once per idempotency key, never below zero.

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

    def write() -> LedgerResult:
        return _post_spend(
            session, user_id=user_id, amount=amount, feature=feature, key=key, source=source
        )

    try:
        return _write_once(
            session, user_id=user_id, kind=EntryKind.SPEND, key=key, request=request, write=write
        )
    except _Shortfall:
        pass
    # Holds past their expiry still count in `held` until released: release them, retry once.
    if _release_lapsed_holds(session, user_id):
        try:
            return _write_once(
                session,
                user_id=user_id,
                kind=EntryKind.SPEND,
                key=key,
                request=request,
                write=write,
            )
        except _Shortfall:
            pass
    # A retry of a spend that succeeded earlier must replay even though credits ran out since.
    try:
        replayed = replay_entry(
            session, user_id=user_id, kind=EntryKind.SPEND, key=key, request=request
        )
        if replayed is not None:
            return replayed
        balance = balance_of(session=session, user_id=user_id)
    finally:
        session.rollback()
    raise InsufficientCredits(available=balance.available, required=amount)
