"""The bottom of the ledger core: append-only entries posted against a locked balance row.

Every change to credits is one `Movement` posted by `post`, which moves the locked account's
balance, held credits and debt, writes them back, and appends the entry with every `*_after`
column computed in this one place. Nothing here knows about lots, holds or Stripe; the
layers above decide what to post (see `credits_app.services` for the layer map).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import CreditAccount, LedgerEntry, UsageEvent
from credits_app.services import balance_events
from credits_app.services.errors import IdempotencyConflict
from credits_app.services.prepared import Prepared

accounts = CreditAccount.__table__
entries = LedgerEntry.__table__
usage = UsageEvent.__table__
T = TypeVar("T")

# Every write runs these: compiled once, run on the driver's cursor (see `prepared`).
ENTRY_COLUMNS = (
    "account_id", "user_id", "kind", "amount", "delta", "held_delta", "debt_delta",
    "balance_after", "held_after", "debt_after", "idempotency_key", "feature", "reason",
    "source", "source_ref", "actor_user_id", "hold_id", "created_at",
)  # fmt: skip
_INSERT_ENTRY = Prepared(insert(entries).returning(entries.c.id), keys=ENTRY_COLUMNS)
_INSERT_USAGE = Prepared(
    insert(usage), keys=("user_id", "feature", "credits", "entry_id", "created_at")
)
_UPDATE_ACCOUNT = Prepared(
    update(accounts)
    .where(accounts.c.id == bindparam("aid"))
    .values(
        balance=bindparam("balance"),
        held=bindparam("held"),
        debt=bindparam("debt"),
        updated_at=bindparam("now"),
    )
)


@dataclass
class AccountState:
    """The locked balance row, kept current while one transaction changes it.

    `balance` counts every credit in a lot (even one not effective yet) plus held credits;
    `waiting` is what lots that are not effective yet still hold, so `available` is what can
    be spent or reserved now.
    """

    id: int
    user_id: int
    balance: int
    held: int
    debt: int
    waiting: int = 0
    expired: int = 0  # holds the locked unit expired before its body ran
    lapsed: int = 0  # lots it expired
    # Whether some lot or hold was due when the row was locked (unknown: assume so). Writes
    # skip the lazy-expiry reads when nothing was.
    lots_due: bool = True
    holds_due: bool = True
    # The transaction's connection, kept so hot paths skip the session's lookup of it.
    connection: Connection | None = field(default=None, repr=False, compare=False)

    def conn(self, session: Session) -> Connection:
        """This transaction's connection (the one the account was locked on)."""
        return self.connection or session.connection()

    @property
    def available(self) -> int:
        """Credits that can be spent now: neither held nor waiting for their lot to start."""
        return self.balance - self.held - self.waiting


@dataclass(frozen=True)
class Movement:
    """One ledger entry to post: what it moves, why, and the keys that make it happen once.

    `delta`, `held_delta` and `debt_delta` are signed changes to the account; `amount` is
    what was asked for (positive), kept to tell a replay from a conflicting request.
    """

    kind: str
    amount: int
    key: str
    source: str
    delta: int = 0
    held_delta: int = 0
    debt_delta: int = 0
    feature: str | None = None
    reason: str | None = None
    source_ref: str | None = None
    actor_user_id: int | None = None
    hold_id: int | None = None


@dataclass(frozen=True)
class LedgerResult:
    """The outcome of a write: the entry and the balance right after it."""

    entry_id: int
    user_id: int
    balance: int
    available: int
    replayed: bool = False


def post(session: Session, state: AccountState, move: Movement, now: datetime) -> int:
    """Apply `move` to the locked account and append its entry (no commit); return its id.

    The database refuses a negative balance, held above balance, or negative debt, so a
    layer above that got its arithmetic wrong fails here instead of writing it.
    """
    state.balance += move.delta
    state.held += move.held_delta
    state.debt += move.debt_delta
    connection = state.conn(session)
    _UPDATE_ACCOUNT.run(
        connection,
        {
            "aid": state.id,
            "balance": state.balance,
            "held": state.held,
            "debt": state.debt,
            "now": now,
        },
    )
    values = {
        "account_id": state.id,
        "user_id": state.user_id,
        "kind": move.kind,
        "amount": move.amount,
        "delta": move.delta,
        "held_delta": move.held_delta,
        "debt_delta": move.debt_delta,
        "balance_after": state.balance,
        "held_after": state.held,
        "debt_after": state.debt,
        "idempotency_key": move.key,
        "feature": move.feature,
        "reason": move.reason,
        "source": move.source,
        "source_ref": move.source_ref,
        "actor_user_id": move.actor_user_id,
        "hold_id": move.hold_id,
        "created_at": now,
    }
    return _INSERT_ENTRY.scalar(connection, values)


def result_of(state: AccountState, entry_id: int) -> LedgerResult:
    """The result of an entry just posted against `state`."""
    return LedgerResult(entry_id, state.user_id, state.balance, state.available)


def record_usage(
    session: Session,
    *,
    user_id: int,
    feature: str,
    credits: int,
    entry_id: int,
    now: datetime,
    connection: Connection | None = None,
) -> None:
    """Insert the usage event of a spend or capture entry (no commit)."""
    values = {
        "user_id": user_id,
        "feature": feature,
        "credits": credits,
        "entry_id": entry_id,
        "created_at": now,
    }
    _INSERT_USAGE.run(connection or session.connection(), values)


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
    session: Session,
    *,
    user_id: int,
    kind: str,
    key: str,
    request: dict,
    waiting: Callable[[int], int] | None = None,
) -> LedgerResult | None:
    """Return the original result for a reused key, or None if the key is new.

    `waiting(entry_id)` says how many credits were not available yet right after the entry
    (in lots that had not started); the layers above know, this one does not.

    Raises:
        IdempotencyConflict: When the key was used for a request with other values.
    """
    row = find_entry(session, user_id=user_id, kind=kind, key=key)
    if row is None:
        return None
    differing = [name for name, value in request.items() if getattr(row, name) != value]
    if differing:
        raise IdempotencyConflict(key, differing)
    available = row.balance_after - row.held_after - (waiting(row.id) if waiting else 0)
    return LedgerResult(row.id, user_id, row.balance_after, available, replayed=True)


def publish(state: AccountState) -> None:
    """Tell listeners (open tabs, other workers) about a committed balance change."""
    change = balance_events.BalanceChanged(state.user_id, state.balance, state.available)
    balance_events.publish(change)


def write_once(
    session: Session,
    *,
    user_id: int,
    kind: str,
    key: str,
    request: dict,
    write: Callable[[], LedgerResult],
    waiting: Callable[[int], int] | None = None,
) -> LedgerResult:
    """Run `write` in its own transaction and commit, or replay when the key was used before.

    A unique-key violation means another request with this key committed first (maybe
    concurrently); the whole transaction is rolled back and that request's result returned
    (`waiting` as for `replay_entry`).
    """
    try:
        result = write()
        session.commit()
    except IntegrityError:
        session.rollback()
        try:
            replayed = replay_entry(
                session, user_id=user_id, kind=kind, key=key, request=request, waiting=waiting
            )
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
