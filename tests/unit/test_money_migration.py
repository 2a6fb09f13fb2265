"""Migration 0007 describes what older versions granted, so `check` holds across it."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from alembic import command
from credits_app.db import make_engine
from credits_app.migrations import alembic_config, upgrade_database
from credits_app.models import StripeDispute, StripePurchase, StripePurchaseLine
from credits_app.services.invariants import check_ledger

NOW = "2026-11-01 12:00:00"


def _old_rows(conn) -> None:
    """A user who bought a pack, disputed it and won, and got a plan paid from balance."""
    conn.execute(
        text(
            "INSERT INTO app_user (id, email, password_hash, is_admin, created_at) "
            "VALUES (1, 'old@example.com', 'x', false, :now)"
        ),
        {"now": NOW},
    )
    conn.execute(
        text(
            "INSERT INTO credit_account (id, user_id, kind, balance, held, debt, created_at, "
            "updated_at) VALUES (1, 1, 'user', 1100, 0, 0, :now, :now)"
        ),
        {"now": NOW},
    )
    entries = [
        ("grant", 100, 100, "stripe_checkout", "cs_old", "Starter Pack (Stripe checkout)"),
        ("clawback", 100, 0, "stripe_dispute", "dp_old", "Dispute dp_old of cs_old"),
        ("grant", 100, 100, "stripe_dispute", "dp_old", "Dispute dp_old won"),
        ("grant", 1000, 1100, "stripe_invoice", "in_old", "Monthly Plan renewal"),
    ]
    for number, (kind, amount, after, source, ref, reason) in enumerate(entries, 1):
        delta = -amount if kind == "clawback" else amount
        conn.execute(
            text(
                "INSERT INTO credit_ledger (id, account_id, user_id, kind, amount, delta, "
                "held_delta, debt_delta, balance_after, held_after, debt_after, "
                "idempotency_key, reason, source, source_ref, created_at) VALUES (:id, 1, 1, "
                ":kind, :amount, :delta, 0, 0, :after, 0, 0, :key, :reason, :source, :ref, :now)"
            ),
            {
                "id": number,
                "kind": kind,
                "amount": amount,
                "delta": delta,
                "after": after,
                "key": f"{source}:{ref}",
                "reason": reason,
                "source": source,
                "ref": ref,
                "now": NOW,
            },
        )
    conn.execute(
        text(
            "INSERT INTO stripe_payment (payment_intent_id, user_id, source, source_ref, amount, "
            "currency, credits, created_at) VALUES ('pi_old', 1, 'stripe_checkout', 'cs_old', "
            "500, 'usd', 100, :now)"
        ),
        {"now": NOW},
    )


def test_grants_made_before_lines_were_kept_pass_the_check_after_the_upgrade(db_url):
    command.downgrade(alembic_config(db_url), "0006")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        _old_rows(conn)

    upgrade_database(db_url)

    with Session(engine) as session:
        assert check_ledger(session=session) == []
        purchases = {
            p.id: (p.kind, p.credits, p.amount_paid) for p in session.exec(select(StripePurchase))
        }
        lines = [
            (line.purchase_id, line.line_ref, line.credits)
            for line in session.exec(
                select(StripePurchaseLine).order_by(StripePurchaseLine.purchase_id)
            )
        ]
        dispute = session.get(StripeDispute, "dp_old")
    engine.dispose()
    assert purchases == {"cs_old": ("checkout", 100, 500), "in_old": ("invoice", 1000, 0)}
    assert lines == [("cs_old", "legacy", 100), ("in_old", "legacy", 1000)]
    assert (dispute.payment_intent_id, dispute.status, dispute.credits) == ("pi_old", "won", 0)


def test_upgrading_a_database_with_holds_keeps_them_and_passes_the_check(db_url):
    """SQLite alters credit_hold by copying it; rows pointing at it must not stop that."""
    command.downgrade(alembic_config(db_url), "0005")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        _old_rows(conn)
        conn.execute(
            text(
                "INSERT INTO credit_hold (id, account_id, user_id, feature, amount, status, "
                "idempotency_key, created_at, expires_at) VALUES (1, 1, 1, 'chat', 100, "
                "'active', 'job-1', :now, '2999-01-01 00:00:00')"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO credit_ledger (id, account_id, user_id, kind, amount, delta, "
                "held_delta, debt_delta, balance_after, held_after, debt_after, "
                "idempotency_key, feature, source, source_ref, hold_id, created_at) VALUES "
                "(5, 1, 1, 'hold', 100, 0, 100, 0, 1100, 100, 0, 'job-1', 'chat', 'hold', "
                "'hold:1', 1, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(text("UPDATE credit_account SET held = 100 WHERE id = 1"))

    upgrade_database(db_url)

    with Session(engine) as session:
        assert check_ledger(session=session) == []
        assert session.exec(text("SELECT managed_by, status FROM credit_hold")).all() == [
            ("api", "active")
        ]
    engine.dispose()
