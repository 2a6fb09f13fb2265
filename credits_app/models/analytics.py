"""Daily rollups of usage and of the ledger, kept exact by the database itself.

Each row sums what one account (or user) did on one UTC day: usage per feature, and ledger
movements per entry kind and source. Triggers written by migration 0011 add every new
`usage_event` and `credit_ledger` row to its day's rollup row in the same transaction as
the insert, so no writer (a spend, a capture, a clawback, an admin's SQL, a benchmark's
bulk load) can forget it, a rolled-back write leaves no trace in it, and it costs a spend
no extra round trip. Usage and ledger rows are never updated or deleted, so the rollups
only ever grow; `check` verifies they equal a fresh aggregation of the rows they sum.

Analytics and the 30-day totals read these instead of scanning raw rows: their cost
follows the number of days and features, not the number of uses.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel


class UsageDaily(SQLModel, table=True):
    """Credits a user spent on one feature on one UTC day, and in how many uses."""

    __tablename__ = "usage_daily"
    __table_args__ = (Index("ix_usage_daily_day", "day"),)

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), primary_key=True, nullable=False)
    )
    day: date = Field(sa_column=Column(Date, primary_key=True, nullable=False))
    feature: str = Field(sa_column=Column(String(64), primary_key=True, nullable=False))
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    uses: int = Field(sa_column=Column(BigInteger, nullable=False))


class LedgerDaily(SQLModel, table=True):
    """What one account's entries of one kind and source moved on one UTC day.

    `credits`, `held` and `debt` are the sums of the entries' `delta`, `held_delta` and
    `debt_delta`; `entries` counts them.
    """

    __tablename__ = "ledger_daily"
    __table_args__ = (Index("ix_ledger_daily_day", "day"),)

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("credit_account.id"), primary_key=True, nullable=False)
    )
    day: date = Field(sa_column=Column(Date, primary_key=True, nullable=False))
    kind: str = Field(sa_column=Column(String(16), primary_key=True, nullable=False))
    source: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    held: int = Field(sa_column=Column(BigInteger, nullable=False))
    debt: int = Field(sa_column=Column(BigInteger, nullable=False))
    entries: int = Field(sa_column=Column(BigInteger, nullable=False))
