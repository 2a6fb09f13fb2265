"""Credits follow money: purchases with their billed lines, disputes, event outcomes.

Existing Stripe grants become one purchase each with a single `legacy` line holding the
credits it granted, and existing dispute clawbacks get their dispute row, so that
`python -m credits_app check` holds before and after.

Revision ID: 0007
Revises: 0006
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the changes."""
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_version", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), server_default="applied", nullable=False)
        )
        batch_op.add_column(sa.Column("detail", sa.String(length=255), nullable=True))
    op.create_table(
        "stripe_purchase",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subscription_id", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_stripe_purchase_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_purchase")),
    )
    with op.batch_alter_table("stripe_purchase", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_purchase_user_id"), ["user_id"], unique=False)
    op.create_table(
        "stripe_purchase_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.String(length=255), nullable=False),
        sa.Column("line_ref", sa.String(length=255), nullable=False),
        sa.Column("price_id", sa.String(length=255), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=True),
        sa.Column("included_credits", sa.BigInteger(), nullable=True),
        sa.Column("proration", sa.Boolean(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["stripe_purchase.id"],
            name=op.f("fk_stripe_purchase_line_purchase_id_stripe_purchase"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_purchase_line")),
        sa.UniqueConstraint(
            "purchase_id", "line_ref", name=op.f("uq_stripe_purchase_line_purchase_id_line_ref")
        ),
    )
    op.create_table(
        "stripe_dispute",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_intent_id"],
            ["stripe_payment.payment_intent_id"],
            name=op.f("fk_stripe_dispute_payment_intent_id_stripe_payment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_dispute")),
    )
    with op.batch_alter_table("stripe_dispute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stripe_dispute_payment_intent_id"), ["payment_intent_id"], unique=False
        )
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    """Describe what today's data already granted, in the new tables."""
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    ledger = sa.table(
        "credit_ledger",
        *(sa.column(c) for c in ("user_id", "kind", "amount", "source", "source_ref", "reason")),
    )
    payment = sa.table(
        "stripe_payment",
        *(sa.column(c) for c in ("payment_intent_id", "source_ref", "amount", "currency")),
    )
    rows = conn.execute(
        sa.select(ledger).where(ledger.c.source.in_(["stripe_checkout", "stripe_invoice"]))
    ).all()
    purchases: dict[str, dict] = {}
    for row in rows:
        sign = 1 if row.kind == "grant" else -1
        entry = purchases.setdefault(
            row.source_ref, {"user_id": row.user_id, "source": row.source, "credits": 0}
        )
        entry["credits"] += sign * row.amount
    paid = {p.source_ref: p for p in conn.execute(sa.select(payment)).all()}
    for ref, entry in purchases.items():
        money = paid.get(ref)
        conn.execute(
            sa.text(
                "INSERT INTO stripe_purchase (id, user_id, kind, payment_intent_id, currency, "
                "amount, amount_paid, credits, created_at) VALUES (:id, :user_id, :kind, "
                ":intent, :currency, :amount, :amount, :credits, :now)"
            ),
            {
                "id": ref,
                "user_id": entry["user_id"],
                "kind": "checkout" if entry["source"] == "stripe_checkout" else "invoice",
                "intent": money.payment_intent_id if money else None,
                "currency": money.currency if money else "usd",
                "amount": money.amount if money else 0,
                "credits": entry["credits"],
                "now": now,
            },
        )
        conn.execute(
            sa.text(
                "INSERT INTO stripe_purchase_line (purchase_id, line_ref, quantity, amount, "
                "proration, credits, description) VALUES (:id, 'legacy', 1, :amount, :no, "
                ":credits, 'recorded before lines were kept')"
            ),
            {
                "id": ref,
                "amount": money.amount if money else 0,
                "no": False,
                "credits": entry["credits"],
            },
        )
    _backfill_disputes(conn, ledger, now)


def _backfill_disputes(conn, ledger, now) -> None:
    """Old dispute clawbacks named their purchase in the reason: "Dispute dp_1 of cs_2"."""
    rows = conn.execute(
        sa.select(ledger).where(ledger.c.source == "stripe_dispute").order_by(ledger.c.kind)
    ).all()
    held: dict[str, int] = {}
    purchase_of: dict[str, str] = {}
    for row in rows:
        sign = 1 if row.kind == "clawback" else -1
        held[row.source_ref] = held.get(row.source_ref, 0) + sign * row.amount
        found = re.match(r"Dispute (\S+) of (\S+)", row.reason or "")
        if found:
            purchase_of[row.source_ref] = found.group(2)
    for dispute_id, credits in held.items():
        intent = conn.execute(
            sa.text("SELECT payment_intent_id FROM stripe_payment WHERE source_ref = :ref"),
            {"ref": purchase_of.get(dispute_id, "")},
        ).scalar()
        if intent is None:
            continue
        conn.execute(
            sa.text(
                "INSERT INTO stripe_dispute (id, payment_intent_id, amount, status, credits, "
                "updated_at) VALUES (:id, :intent, 0, :status, :credits, :now)"
            ),
            {
                "id": dispute_id,
                "intent": intent,
                "status": "lost" if credits else "won",
                "credits": credits,
                "now": now,
            },
        )


def downgrade() -> None:
    """Revert the changes."""
    with op.batch_alter_table("stripe_dispute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_dispute_payment_intent_id"))
    op.drop_table("stripe_dispute")
    op.drop_table("stripe_purchase_line")
    with op.batch_alter_table("stripe_purchase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_purchase_user_id"))
    op.drop_table("stripe_purchase")
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("outcome")
        batch_op.drop_column("api_version")
