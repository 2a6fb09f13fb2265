"""The per-user balance row: opening it, locking it, reading it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from credits_app.models import CreditAccount, CreditHold, HoldStatus, User, utcnow
from credits_app.services.errors import UserNotFound

accounts = CreditAccount.__table__
holds = CreditHold.__table__
ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.balance, accounts.c.held, accounts.c.debt)


@dataclass(frozen=True)
class Balance:
    """A user's credits: `available` is what can be spent now (balance minus holds)."""

    user_id: int
    balance: int
    held: int
    debt: int

    @property
    def available(self) -> int:
        """Credits not reserved by an active hold."""
        return self.balance - self.held


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
    stmt = insert(accounts).values(user_id=user_id, kind="user")
    session.exec(stmt.on_conflict_do_nothing(index_elements=["user_id"]))


def lock_account(session: Session, user_id: int) -> Row:
    """Return (id, balance, held, debt) of the user's account, locked for this transaction.

    On PostgreSQL the row is locked with FOR UPDATE; on SQLite the write transaction
    (BEGIN IMMEDIATE) already excludes every other writer.

    Raises:
        UserNotFound: When the user does not exist.
    """
    query = select(*ACCOUNT_COLUMNS).where(accounts.c.user_id == user_id).with_for_update()
    row = session.exec(query).one_or_none()
    if row is None:
        open_account(session, user_id)
        row = session.exec(query).one()
    return row


def balance_of(*, session: Session, user_id: int) -> Balance:
    """Return the user's balance in one indexed row read, whatever the history length.

    Holds past their expiry no longer count as held (lazy expiry on read).

    Raises:
        UserNotFound: When the user does not exist.
    """
    query = select(accounts.c.balance, accounts.c.held, accounts.c.debt).where(
        accounts.c.user_id == user_id
    )
    row = session.exec(query).one_or_none()
    if row is None:
        require_user(session, user_id)
        return Balance(user_id=user_id, balance=0, held=0, debt=0)
    held = row.held - lapsed_held(session, user_id) if row.held else 0
    return Balance(user_id=user_id, balance=row.balance, held=held, debt=row.debt)


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
