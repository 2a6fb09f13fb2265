"""The per-user balance row: opening it, locking it, reading it (the layer above the journal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from credits_app.models import CreditHold, CreditLot, HoldStatus, User, utcnow
from credits_app.services.errors import UserNotFound
from credits_app.services.journal import AccountState, accounts

holds = CreditHold.__table__
lots = CreditLot.__table__
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


def lock_account(session: Session, user_id: int, now: datetime | None = None) -> AccountState:
    """Return the user's account locked for this transaction, opening it if needed.

    On PostgreSQL the row is locked with FOR UPDATE; on SQLite the write transaction
    (BEGIN IMMEDIATE) already excludes every other writer. `waiting` is read with it: the
    credits of lots that start after `now`.

    Raises:
        UserNotFound: When the user does not exist.
    """
    now = now or utcnow()
    waiting = _lot_sum(lots.c.effective_at > now).label("waiting")
    query = (
        select(*ACCOUNT_COLUMNS, waiting)
        .where(accounts.c.user_id == user_id)
        .with_for_update(of=accounts)
    )
    row = session.exec(query).one_or_none()
    if row is None:
        open_account(session, user_id)
        row = session.exec(query).one()
    return AccountState(row.id, user_id, row.balance, row.held, row.debt, int(row.waiting))


def balance_of(*, session: Session, user_id: int) -> Balance:
    """Return the user's balance in one indexed row read, whatever the history length.

    What ran out but was not written yet is left out (lazy expiry on read): holds past their
    time no longer count as held, and lots past their expiry no longer count at all. Lots
    that start later count in `balance` and `waiting`, not in `available`.

    Raises:
        UserNotFound: When the user does not exist.
    """
    now = utcnow()
    query = select(
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
    held = row.held - lapsed_held(session, user_id) if row.held else 0
    balance = row.balance - int(row.lapsed)
    return Balance(user_id, balance, held, row.debt, int(row.waiting))


def lapsed_held(session: Session, user_id: int) -> int:
    """Credits still counted in `held` by holds whose time ran out but are not released yet.

    Reads subtract them, so a balance is right before the next write or sweep releases them.
    """
    query = select(func.coalesce(func.sum(holds.c.amount), 0)).where(
        holds.c.user_id == user_id,
        holds.c.status == HoldStatus.ACTIVE,
        holds.c.expires_at <= utcnow(),
    )
    return int(session.exec(query).scalar_one())
