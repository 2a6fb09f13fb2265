"""The Alembic migrations and the SQLModel tables describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from credits_app.db import make_engine
from credits_app.migrations import upgrade_database


def test_migrated_database_matches_the_models(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()

    assert differences == []


def test_migrations_create_the_ledger_guards(db_url):
    engine = make_engine(db_url)
    inspector = inspect(engine)

    checks = {c["name"] for c in inspector.get_check_constraints("credit_account")}
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("credit_ledger")}
    engine.dispose()

    assert {
        "ck_credit_account_balance_not_negative",
        "ck_credit_account_held_within_balance",
        "ck_credit_account_debt_not_negative",
    } <= checks
    assert ("account_id", "kind", "idempotency_key") in uniques
    assert ("kind", "source", "source_ref") in uniques


def test_upgrading_twice_changes_nothing(db_url):
    upgrade_database(db_url)
    upgrade_database(db_url)

    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() is not None
    engine.dispose()
