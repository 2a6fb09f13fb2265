"""Credit lots: every grant becomes a lot with a window, a category and a priority.

Each existing balance becomes one paid lot that never expires, so `check` passes before and
after: the lot holds the balance, and every active hold pins its amount in it (the lot's
`remaining` is the balance minus held credits). The lot's `entry_id` is the account's last
entry before lots existed; entries up to it moved no lots. Accounts gain an owner type and
id ('user', user id), so team pools need no migration later. Prices gain the expiry policy
and rollover cap read from their metadata.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply the changes."""
    with op.batch_alter_table("credit_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("owner_type", sa.String(length=16), server_default="user", nullable=False)
        )
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
    op.execute("UPDATE credit_account SET owner_id = user_id WHERE owner_type = 'user'")
    with op.batch_alter_table("credit_account", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_credit_account_owner", ["owner_type", "owner_id"])
    with op.batch_alter_table("price", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits_expire_after", sa.String(length=32)))
        batch_op.add_column(sa.Column("rollover_max", sa.BigInteger()))

    op.create_table(
        "credit_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("funded_by", sa.String(length=255), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("rollover_max", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name="lot_amount_positive"),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= amount", name="remaining_within_amount"
        ),
        sa.CheckConstraint("category IN ('paid', 'promotional')", name="lot_category_known"),
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > effective_at", name="lot_window_not_empty"
        ),
        sa.ForeignKeyConstraint(["account_id"], ["credit_account.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["credit_ledger.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_credit_lot_live",
        "credit_lot",
        ["account_id", "priority", "expires_at"],
        sqlite_where=sa.text("remaining > 0"),
        postgresql_where=sa.text("remaining > 0"),
    )
    for name, column in (("ix_credit_lot_due", "expires_at"), ("ix_credit_lot_starts", "effective_at")):
        op.create_index(
            name,
            "credit_lot",
            ["account_id", column],
            sqlite_where=sa.text("remaining > 0"),
            postgresql_where=sa.text("remaining > 0"),
        )
    op.create_index("ix_credit_lot_funded_by", "credit_lot", ["funded_by"])
    op.create_index(
        "ix_credit_lot_scheduled",
        "credit_lot",
        ["account_id", "effective_at"],
        sqlite_where=sa.text("effective_at > created_at"),
        postgresql_where=sa.text("effective_at > created_at"),
    )
    op.create_index("ix_credit_lot_entry_id", "credit_lot", ["entry_id"])
    op.create_table(
        "lot_allocation",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name="allocation_not_zero"),
        sa.ForeignKeyConstraint(["entry_id"], ["credit_ledger.id"]),
        sa.ForeignKeyConstraint(["hold_id"], ["credit_hold.id"]),
        sa.ForeignKeyConstraint(["lot_id"], ["credit_lot.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lot_allocation_lot_id", "lot_allocation", ["lot_id"])
    op.create_index("ix_lot_allocation_entry_id", "lot_allocation", ["entry_id"])
    op.create_index("ix_lot_allocation_hold_id", "lot_allocation", ["hold_id"])
    _balances_become_lots()


def _balances_become_lots() -> None:
    """One never-expiring paid lot per balance, pinned by the account's active holds."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    accounts = bind.execute(
        sa.text(
            "SELECT a.id, a.user_id, a.balance, a.held, a.created_at,"
            " (SELECT MAX(e.id) FROM credit_ledger e WHERE e.account_id = a.id) AS last_entry"
            " FROM credit_account a WHERE a.balance > 0 ORDER BY a.id"
        )
    ).all()
    for account in accounts:
        lot_id = bind.execute(
            sa.text(
                "INSERT INTO credit_lot (account_id, user_id, amount, remaining, category,"
                " priority, effective_at, expires_at, source, entry_id, created_at) VALUES"
                " (:account, :user, :amount, :remaining, 'paid', 0, :since, NULL, 'migrated',"
                " :entry, :now) RETURNING id"
            ),
            {
                "account": account.id,
                "user": account.user_id,
                "amount": account.balance,
                "remaining": account.balance - account.held,
                "since": account.created_at,
                "entry": account.last_entry,
                "now": now,
            },
        ).scalar_one()
        bind.execute(
            sa.text(
                "INSERT INTO lot_allocation (lot_id, entry_id, hold_id, amount)"
                " SELECT :lot, e.id, h.id, -h.amount FROM credit_hold h"
                " JOIN credit_ledger e ON e.hold_id = h.id AND e.kind = 'hold'"
                " WHERE h.account_id = :account AND h.status = 'active'"
            ),
            {"lot": lot_id, "account": account.id},
        )


def downgrade() -> None:
    """Revert the changes (lots and allocations are dropped; balances are kept)."""
    op.drop_index("ix_lot_allocation_hold_id", table_name="lot_allocation")
    op.drop_index("ix_lot_allocation_entry_id", table_name="lot_allocation")
    op.drop_index("ix_lot_allocation_lot_id", table_name="lot_allocation")
    op.drop_table("lot_allocation")
    op.drop_index("ix_credit_lot_entry_id", table_name="credit_lot")
    op.drop_index("ix_credit_lot_scheduled", table_name="credit_lot")
    op.drop_index("ix_credit_lot_funded_by", table_name="credit_lot")
    op.drop_index("ix_credit_lot_starts", table_name="credit_lot")
    op.drop_index("ix_credit_lot_due", table_name="credit_lot")
    op.drop_index("ix_credit_lot_live", table_name="credit_lot")
    op.drop_table("credit_lot")
    with op.batch_alter_table("price", schema=None) as batch_op:
        batch_op.drop_column("rollover_max")
        batch_op.drop_column("credits_expire_after")
    with op.batch_alter_table("credit_account", schema=None) as batch_op:
        batch_op.drop_constraint("uq_credit_account_owner", type_="unique")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("owner_type")
