"""Daily rollups of usage and of the ledger, kept by triggers in the inserting transaction.

`usage_daily` sums `usage_event` per user, UTC day and feature; `ledger_daily` sums
`credit_ledger` per account, UTC day, kind and source. A trigger on each raw table adds
every inserted row to its rollup row (an upsert) inside the same transaction, so the
rollups are exact whoever writes, and a spend pays no extra round trip for them. (On
PostgreSQL the trigger runs once per statement over its new rows; see `create_triggers`.) Existing
rows are summed in once here. The UTC day is `date(created_at)` on SQLite (which stores
naive UTC) and `(created_at AT TIME ZONE 'UTC')::date` on PostgreSQL, the same expressions
the app groups by (`credits_app.services.rollups.utc_day`).

On PostgreSQL the trigger functions pin the schema they were created in (`SET search_path
FROM CURRENT`), so they find their rollup table whatever the inserting session's path is.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (rollup, raw table, trigger name, key columns, [(rollup column, raw expression)]).
# Key columns other than the day are copied; the sums add up; the count adds one per row.
ROLLUPS = (
    (
        "usage_daily",
        "usage_event",
        "usage_daily_add",
        ("user_id", "feature"),
        [("credits", "credits"), ("uses", "1")],
    ),
    (
        "ledger_daily",
        "credit_ledger",
        "ledger_daily_add",
        ("account_id", "kind", "source"),
        [("credits", "delta"), ("held", "held_delta"), ("debt", "debt_delta"), ("entries", "1")],
    ),
)


def _day(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _upsert(dialect: str, rollup: str, keys, sums, *, row: str) -> str:
    """The INSERT ... ON CONFLICT that adds one raw row (`row` = NEW) to its rollup row (SQLite)."""
    columns = [keys[0], "day", *keys[1:], *(name for name, _ in sums)]
    values = [
        f"{row}.{keys[0]}",
        _day(dialect, f"{row}.created_at"),
        *(f"{row}.{key}" for key in keys[1:]),
        *(expr if expr == "1" else f"{row}.{expr}" for _, expr in sums),
    ]
    conflict = ", ".join([keys[0], "day", *keys[1:]])
    adds = ", ".join(f"{name} = {rollup}.{name} + excluded.{name}" for name, _ in sums)
    return (
        f"INSERT INTO {rollup} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {adds}"
    )


def _summed(dialect: str, rollup: str, source: str, keys, sums) -> str:
    """The INSERT ... SELECT ... ON CONFLICT that adds the rows of `source` to the rollup."""
    day = _day(dialect, "created_at")
    columns = [keys[0], "day", *keys[1:], *(name for name, _ in sums)]
    group = ", ".join([keys[0], day, *keys[1:]])
    totals = ", ".join("COUNT(*)" if expr == "1" else f"SUM({expr})" for _, expr in sums)
    conflict = ", ".join([keys[0], "day", *keys[1:]])
    adds = ", ".join(f"{name} = {rollup}.{name} + excluded.{name}" for name, _ in sums)
    return (
        f"INSERT INTO {rollup} ({', '.join(columns)}) "  # noqa: S608 (constants)
        f"SELECT {keys[0]}, {day}, {', '.join(keys[1:])}, {totals} FROM {source} "
        f"GROUP BY {group} ON CONFLICT ({conflict}) DO UPDATE SET {adds}"
    )


def create_triggers() -> None:
    """Create the rollup triggers of this dialect.

    SQLite runs a row trigger: one upsert per inserted row. PostgreSQL runs a statement
    trigger over the statement's new rows (a transition table), summed per rollup row in
    one upsert: a row trigger there would update the same rollup row once per row of a
    multi-row insert, each time leaving a dead row version for the next to step over.
    """
    dialect = op.get_bind().dialect.name
    for rollup, raw, name, keys, sums in ROLLUPS:
        if dialect == "postgresql":
            summed = _summed(dialect, rollup, "new_rows", keys, sums)
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                f"SET search_path FROM CURRENT AS $$ BEGIN {summed}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER INSERT ON {raw} REFERENCING NEW TABLE AS "
                f"new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        else:
            upsert = _upsert(dialect, rollup, keys, sums, row="NEW")
            op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {raw} BEGIN {upsert}; END")


def drop_triggers() -> None:
    """Drop the rollup triggers of this dialect."""
    dialect = op.get_bind().dialect.name
    for _rollup, raw, name, _keys, _sums in ROLLUPS:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {raw}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    """Create the rollup tables, sum the existing rows into them, then add the triggers."""
    op.create_table(
        "usage_daily",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("feature", sa.String(64), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day", "feature", name="pk_usage_daily"),
    )
    op.create_index("ix_usage_daily_day", "usage_daily", ["day"])
    op.create_table(
        "ledger_daily",
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("credit_account.id"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "day", "kind", "source", name="pk_ledger_daily"),
    )
    op.create_index("ix_ledger_daily_day", "ledger_daily", ["day"])
    dialect = op.get_bind().dialect.name
    for rollup, raw, _name, keys, sums in ROLLUPS:
        op.execute(_summed(dialect, rollup, raw, keys, sums))
    create_triggers()


def downgrade() -> None:
    """Drop the triggers and the rollups."""
    drop_triggers()
    op.drop_table("ledger_daily")
    op.drop_table("usage_daily")
