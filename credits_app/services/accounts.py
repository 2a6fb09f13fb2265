"""The per-user balance row: opening it, locking it, reading it (the layer above the journal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from credits_app.models import CreditHold, CreditLot, HoldStatus, LotAllocation, User, utcnow
from credits_app.services.errors import UserNotFound
from credits_app.services.journal import AccountState, accounts, entries
from credits_app.services.prepared import Prepared

holds = CreditHold.__table__
lots = CreditLot.__table__
allocations = LotAllocation.__table__
ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.balance, accounts.c.held, accounts.c.debt)


def _lot_sum(*conditions):
    """Credits left in this account's lots that meet `conditions` (a correlated subquery)."""
    return (
        select(func.coalesce(func.sum(lots.c.remaining), 0))
        .where(lots.c.account_id == accounts.c.id, lots.c.remaining > 0, *conditions)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Balance:
    """A user's credits: `available` is what can be spent now (balance minus holds)."""

    user_id: int
    balance: int
    held: int
    debt: int
    waiting: int = 0

    @property
    def available(self) -> int:
        """Credits that can be spent now: not reserved by a hold, in a lot already effective."""
        return self.balance - self.held - self.waiting


def require_user(session: Session, user_id: int) -> None:
    """Raise `UserNotFound` unless the user exists."""
    if session.get(User, user_id) is None:
        raise UserNotFound(f"no user with id {user_id}")


def open_account(session: Session, user_id: int) -> None:
    """Create the user's balance row if it does not exist yet (race-safe, no commit).

    Raises:
        UserNotFound: When the user does not exist.
    """
    require_user(session, user_id)
    is_postgres = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if is_postgres else sqlite.insert
    stmt = insert(accounts).values(
        user_id=user_id, kind="user", owner_type="user", owner_id=user_id
    )
    session.exec(stmt.on_conflict_do_nothing(index_elements=["user_id"]))


_NOW = bindparam("now")
# Built once, run on the session's connection: building and compiling a query on every
# call cost more than running it. Whether a lot or a hold is due comes with the lock, so a
# write with nothing due skips both lazy-expiry reads.
_LOCK = Prepared(
    select(
        *ACCOUNT_COLUMNS,
        _lot_sum(lots.c.effective_at > _NOW).label("waiting"),
        exists()
        .where(
            lots.c.account_id == accounts.c.id,
            lots.c.remaining > 0,
            lots.c.expires_at <= _NOW,
        )
        .label("lots_due"),
        exists()
        .where(
            holds.c.account_id == accounts.c.id,
            holds.c.status == HoldStatus.ACTIVE,
            holds.c.expires_at <= _NOW,
        )
        .label("holds_due"),
    )
    .where(accounts.c.user_id == bindparam("user"))
    .with_for_update(of=accounts)
)


def lock_account(session: Session, user_id: int, now: datetime | None = None) -> AccountState:
    """Return the user's account locked for this transaction, opening it if needed.

    On PostgreSQL the row is locked with FOR UPDATE; on SQLite the write transaction
    (BEGIN IMMEDIATE) already excludes every other writer. `waiting` is read with it: the
    credits of lots that start after `now`.

    Raises:
        UserNotFound: When the user does not exist.
    """
    params = {"user": user_id, "now": now or utcnow()}
    connection = session.connection()
    row = _LOCK.one_or_none(connection, params)
    if row is None:
        open_account(session, user_id)
        row = _LOCK.one_or_none(connection, params)
    return AccountState(
        row.id,
        user_id,
        row.balance,
        row.held,
        row.debt,
        int(row.waiting),
        lots_due=bool(row.lots_due),
        holds_due=bool(row.holds_due),
        connection=connection,
    )


def rollover_of(lot: Row) -> tuple[int, datetime | None]:
    """What an ended lot carries into a new one: (credits, when that new lot ends).

    Only a plan period with a `rollover_max` carries anything: up to that many of its unused
    credits, into a lot that starts when it ended and lasts as long as it did.
    """
    credits = min(lot.remaining, lot.rollover_max or 0)
    if credits <= 0:
        return 0, None
    return credits, lot.expires_at + (lot.expires_at - lot.effective_at)


def balance_of(*, session: Session, user_id: int, now: datetime | None = None) -> Balance:
    """Return the user's balance in one indexed row read, whatever the history length.

    What ran out but was not written yet is read as the next write or sweep will write it
    (lazy expiry on read): lots past their expiry no longer count, except what a plan period
    rolls over (which settles debt first); holds past their time no longer count as held,
    and what they pin in lots that ended is lost with those lots. Lots that start later
    count in `balance` and `waiting`, not in `available`. `now` is the moment to read the
    balance at (default: the current time).

    Raises:
        UserNotFound: When the user does not exist.
    """
    now = now or utcnow()
    query = select(
        accounts.c.id,
        accounts.c.balance,
        accounts.c.held,
        accounts.c.debt,
        _lot_sum(lots.c.expires_at <= now).label("lapsed"),
        _lot_sum(lots.c.effective_at > now).label("waiting"),
    ).where(accounts.c.user_id == user_id)
    row = session.exec(query).one_or_none()
    if row is None:
        require_user(session, user_id)
        return Balance(user_id=user_id, balance=0, held=0, debt=0)
    balance, held, debt = row.balance, row.held, row.debt
    if row.lapsed:
        balance, debt = _after_lapsed_lots(session, row.id, balance, debt, now)
    if held:
        freed = lapsed_held(session, user_id, now)
        if freed:
            held -= freed
            balance -= _pinned_in_ended_lots(session, row.id, now)
    return Balance(user_id, balance, held, debt, int(row.waiting))


def _after_lapsed_lots(
    session: Session, account_id: int, balance: int, debt: int, now: datetime
) -> tuple[int, int]:
    """(balance, debt) once the account's lots that ended by `now` expire and roll over.

    As `expire_due_lots` does: each such lot loses what is left in it, and a plan period
    carries some into a new lot, which settles debt first (and expires at once if its own
    time is over too).
    """
    query = select(
        lots.c.remaining, lots.c.effective_at, lots.c.expires_at, lots.c.rollover_max
    ).where(lots.c.account_id == account_id, lots.c.remaining > 0, lots.c.expires_at <= now)
    for lot in session.exec(query):
        balance -= lot.remaining
        carried, ends = rollover_of(lot)
        settled = min(debt, carried)
        debt -= settled
        if carried and ends > now:
            balance += carried - settled
    return balance, debt


def _pinned_in_ended_lots(session: Session, account_id: int, now: datetime) -> int:
    """Credits that holds past their time pin in lots that ended: released, they expire."""
    query = (
        select(func.coalesce(func.sum(-allocations.c.amount), 0))
        .select_from(
            allocations.join(holds, holds.c.id == allocations.c.hold_id).join(
                lots, lots.c.id == allocations.c.lot_id
            )
        )
        .where(
            holds.c.account_id == account_id,
            holds.c.status == HoldStatus.ACTIVE,
            holds.c.expires_at <= now,
            lots.c.expires_at <= now,
        )
    )
    return int(session.exec(query).scalar_one())


def lapsed_held(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Credits still counted in `held` by holds whose time ran out but are not released yet.

    Reads subtract them, so a balance is right before the next write or sweep releases them.
    """
    query = select(func.coalesce(func.sum(holds.c.amount), 0)).where(
        holds.c.user_id == user_id,
        holds.c.status == HoldStatus.ACTIVE,
        holds.c.expires_at <= (now or utcnow()),
    )
    return int(session.exec(query).scalar_one())


def waiting_after(session: Session, entry_id: int) -> int:
    """Credits that were waiting for their lot to start right after entry `entry_id`.

    A replayed write answers with what was available then. Before it starts, a lot moves
    only by what its own grant took to settle debt (nothing spends from it or expires it),
    so what it held then is that; only lots granted to start later can ever wait (an index
    keeps just those).
    """
    settled = allocations.alias("settled")
    query = (
        select(func.coalesce(func.sum(lots.c.amount + func.coalesce(settled.c.amount, 0)), 0))
        .select_from(
            lots.join(entries, entries.c.account_id == lots.c.account_id).outerjoin(
                settled,
                (settled.c.lot_id == lots.c.id) & (settled.c.entry_id == lots.c.entry_id),
            )
        )
        .where(
            entries.c.id == entry_id,
            lots.c.effective_at > lots.c.created_at,
            lots.c.effective_at > entries.c.created_at,
            lots.c.entry_id <= entry_id,
        )
    )
    return int(session.exec(query).scalar_one())
