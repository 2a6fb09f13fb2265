"""The original system's debug SQL runs unchanged: views with its table and column names.

Its Troubleshooting section reads (unquoted, as written there):

    SELECT SUM(delta) FROM CreditLedger WHERE userId = 'USER_ID';
    SELECT * FROM CreditLedger WHERE userId = 'USER_ID' ORDER BY createdAt DESC;
    SELECT * FROM Subscription WHERE userId = 'USER_ID' AND status = 'active';

Prisma, which the original used, quotes its names ("CreditLedger"."userId"), so people
also paste the quoted forms. Name matching differs: SQLite matches names without regard
to case, quoted or not; PostgreSQL folds unquoted names to lower case and matches quoted
ones exactly. So:

- SQLite gets one view per name (`CreditLedger`, `UsageEvent`), columns in the original's
  camelCase; they answer both forms.
- PostgreSQL gets two per name: the quoted one (`"CreditLedger"` with `"userId"`, ...)
  and the folded one (`creditledger` with `userid`, ...).
- `Subscription` cannot be a view: unquoted (and on SQLite, even quoted) it names our own
  table `subscription`. The table gets a generated column `userid` (= `user_id`), so the
  original's query runs against the table itself on both databases; `status` already
  matches. PostgreSQL also gets a quoted `"Subscription"` view in the original's names.

A later migration that rebuilds `credit_ledger`, `usage_event` or `subscription` in batch
mode on SQLite must drop these views first (`drop_views`) and recreate them afterwards.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each view: (original name, our table, [(original column, our expression)]).
VIEWS = (
    (
        "CreditLedger",
        "credit_ledger",
        [
            ("id", "id"),
            ("userId", "user_id"),
            ("delta", "delta"),
            ("reason", "reason"),
            ("idempotencyKey", "idempotency_key"),
            ("createdAt", "created_at"),
            ("kind", "kind"),
            ("amount", "amount"),
            ("feature", "feature"),
            ("source", "source"),
            ("sourceRef", "source_ref"),
            ("balanceAfter", "balance_after"),
            ("holdId", "hold_id"),
        ],
    ),
    (
        "UsageEvent",
        "usage_event",
        [
            ("id", "id"),
            ("userId", "user_id"),
            ("feature", "feature"),
            ("credits", "credits"),
            ("ledgerEntryId", "entry_id"),
            ("createdAt", "created_at"),
        ],
    ),
)
# PostgreSQL only: on SQLite the name is the table's.
SUBSCRIPTION_VIEW = (
    "Subscription",
    "subscription",
    [
        ("id", "id"),
        ("userId", "user_id"),
        ("stripeSubscriptionId", "id"),
        ("stripeCustomerId", "stripe_customer_id"),
        ("stripePriceId", "price_id"),
        ("status", "status"),
        ("currentPeriodStart", "current_period_start"),
        ("currentPeriodEnd", "current_period_end"),
        ("cancelAtPeriodEnd", "cancel_at_period_end"),
        ("canceledAt", "canceled_at"),
        ("updatedAt", "updated_at"),
    ],
)


def _view_sql(name: str, table: str, columns: list[tuple[str, str]], *, fold: bool) -> str:
    """CREATE VIEW in the original's names, quoted as written, or folded to lower case."""

    def named(text: str) -> str:
        return text.lower() if fold else f'"{text}"'

    select = ", ".join(f"{ours} AS {named(theirs)}" for theirs, ours in columns)
    return f"CREATE VIEW {named(name)} AS SELECT {select} FROM {table}"  # noqa: S608 (constants)


def _views(dialect: str) -> list[tuple[str, str]]:
    """(name as it is dropped, CREATE statement) of every view on this dialect."""
    if dialect == "sqlite":
        return [
            (f'"{name}"', _view_sql(name, table, cols, fold=False)) for name, table, cols in VIEWS
        ]
    found = []
    for name, table, cols in (*VIEWS, SUBSCRIPTION_VIEW):
        found.append((f'"{name}"', _view_sql(name, table, cols, fold=False)))
        if name != SUBSCRIPTION_VIEW[0]:
            found.append((name.lower(), _view_sql(name, table, cols, fold=True)))
    return found


def create_views() -> None:
    """Create the views of this dialect."""
    for _name, create in _views(op.get_bind().dialect.name):
        op.execute(create)


def drop_views() -> None:
    """Drop the views of this dialect."""
    for name, _create in _views(op.get_bind().dialect.name):
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    """Add `subscription.userid` and the views."""
    # A plain ALTER TABLE, not batch mode: SQLite adds a VIRTUAL generated column in place
    # (the only kind ALTER TABLE can add); PostgreSQL before 18 knows only STORED ones.
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.add_column(
        "subscription",
        sa.Column("userid", sa.Integer(), sa.Computed("user_id", persisted=stored)),
    )
    create_views()


def downgrade() -> None:
    """Drop the views and the column."""
    drop_views()
    op.execute("ALTER TABLE subscription DROP COLUMN userid")
