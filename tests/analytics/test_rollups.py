"""The daily rollups are exact: every write adds to its day's row, a rolled-back one adds nothing.

They are read instead of raw usage and ledger rows (30-day totals, the chart, analytics),
so they must equal a fresh aggregation at all times; `check` proves it after every test.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text, update
from sqlmodel import Session

from alembic import command
from credits_app.db import make_engine
from credits_app.migrations import alembic_config, upgrade_database
from credits_app.models import LedgerDaily, UsageDaily
from credits_app.services.accounts import lock_account
from credits_app.services.holds import capture, reserve
from credits_app.services.invariants import check_ledger
from credits_app.services.journal import Movement, post
from credits_app.services.ledger import grant_credits, post_clawback, spend_credits
from credits_app.services.lots import LotTerms
from credits_app.services.rollups import check_rollups
from tests.support.cli import assert_check_ok, run_cli
from tests.support.factories import make_user

DAY1 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)


def _usage_rows(session: Session, user_id: int) -> dict[tuple[date, str], tuple[int, int]]:
    rows = session.exec(select(UsageDaily).where(UsageDaily.user_id == user_id)).scalars()
    return {(r.day, r.feature): (r.credits, r.uses) for r in rows}


def _ledger_rows(session: Session) -> dict[tuple[date, str, str], tuple[int, int, int, int]]:
    rows = session.exec(select(LedgerDaily)).scalars()
    return {(r.day, r.kind, r.source): (r.credits, r.held, r.debt, r.entries) for r in rows}


def _three_days(session: Session) -> int:
    """Grant, spend, hold and capture, claw back, and let a lot expire, over three days."""
    user = make_user(session)
    uid = user.id
    start = DAY1 - timedelta(hours=1)
    paid = LotTerms(effective_at=start)
    grant_credits(
        session=session, user_id=uid, amount=100, reason="pack", idempotency_key="g1",
        source="cli", terms=paid, now=start,
    )  # fmt: skip
    promo = LotTerms(effective_at=start, expires_at=DAY3, category="promotional")
    grant_credits(
        session=session, user_id=uid, amount=50, reason="promo", idempotency_key="g2",
        terms=promo, now=start,
    )  # fmt: skip
    for n, amount in enumerate((4, 6)):
        spend_credits(
            session=session, user_id=uid, amount=amount, feature="chat",
            idempotency_key=f"s{n}", now=DAY1 + timedelta(minutes=n),
        )  # fmt: skip
    hold = reserve(
        session=session, user_id=uid, amount=30, feature="image", idempotency_key="h", now=DAY2
    )
    capture(
        session=session, user_id=uid, hold_id=hold.hold_id, amount=25, idempotency_key="c",
        now=DAY2 + timedelta(minutes=1),
    )  # fmt: skip
    post_clawback(
        session=session, user_id=uid, amount=7, reason="taken back", idempotency_key="r",
        source="admin", now=DAY2 + timedelta(minutes=2),
    )  # fmt: skip
    session.commit()
    # Promotional credits go first: 50 - 10 spent - 25 captured - 7 taken back leaves 8,
    # which expire on day 3 at the next write, a spend (paid for by the paid lot).
    spend_credits(
        session=session, user_id=uid, amount=1, feature="chat", idempotency_key="s3",
        now=DAY3 + timedelta(hours=1),
    )  # fmt: skip
    return uid


def test_each_write_adds_to_its_days_rollup_rows_exactly(session):
    uid = _three_days(session)

    d1, d2, d3 = DAY1.date(), DAY2.date(), DAY3.date()
    assert _usage_rows(session, uid) == {
        (d1, "chat"): (10, 2),
        (d2, "image"): (25, 1),
        (d3, "chat"): (1, 1),
    }
    day0 = (DAY1 - timedelta(hours=1)).date()
    assert _ledger_rows(session) == {
        (day0, "grant", "cli"): (100, 0, 0, 1),
        (day0, "grant", "admin"): (50, 0, 0, 1),
        (d1, "spend", "api"): (-10, 0, 0, 2),
        (d2, "hold", "hold"): (0, 30, 0, 1),
        (d2, "capture", "hold"): (-25, -30, 0, 1),
        (d2, "clawback", "admin"): (-7, 0, 0, 1),
        (d3, "expire", "lot"): (-8, 0, 0, 1),
        (d3, "spend", "api"): (-1, 0, 0, 1),
    }
    assert check_rollups(session) == []


def test_a_rolled_back_write_leaves_nothing_in_the_rollups(session):
    user = make_user(session, credits=50)
    before = _ledger_rows(session)
    state = lock_account(session, user.id, DAY1)
    move = Movement(kind="spend", amount=5, key="gone", source="api", delta=-5, feature="chat")
    post(session, state, move, DAY1)
    assert _ledger_rows(session) != before  # the trigger ran inside the transaction

    session.rollback()

    assert _ledger_rows(session) == before
    assert _usage_rows(session, user.id) == {}


@pytest.mark.ledger_corrupted("edits rollup rows by hand, then rebuilds them")
def test_check_reports_a_rollup_that_differs_and_rebuild_rollups_repairs_it(session, db_url):
    user = make_user(session, credits=50)
    spend_credits(session=session, user_id=user.id, amount=3, feature="chat", idempotency_key="a")
    session.exec(update(UsageDaily).values(credits=UsageDaily.credits + 1))
    session.exec(text("DELETE FROM ledger_daily WHERE kind = 'grant'"))
    session.commit()

    checked = run_cli(db_url, "check")

    today = datetime.now(UTC).date()
    assert checked.returncode == 1
    assert f"usage_daily for user {user.id}, 'chat' on {today} is not exact" in checked.stdout
    assert "grant from admin" in checked.stdout
    rebuilt = run_cli(db_url, "rebuild-rollups", "--json")
    assert (rebuilt.returncode, json.loads(rebuilt.stdout)) == (0, {"rebuilt": True, "differed": 2})
    assert_check_ok(db_url)
    session.expire_all()
    assert _usage_rows(session, user.id) == {(today, "chat"): (3, 1)}


def test_concurrent_spends_of_one_user_all_land_in_one_row(engine, session):
    user = make_user(session, credits=1000)
    other = make_user(session, credits=1000)

    def spend(n: int) -> None:
        with Session(engine) as mine:
            spend_credits(
                session=mine, user_id=(user.id, other.id)[n % 2], amount=n % 5 + 1,
                feature=("chat", "image")[n % 3 == 0], idempotency_key=f"k{n}",
            )  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(spend, range(120)))

    today = datetime.now(UTC).date()
    expected: dict[int, dict] = {user.id: {}, other.id: {}}
    for n in range(120):
        key = (today, ("chat", "image")[n % 3 == 0])
        rows = expected[(user.id, other.id)[n % 2]]
        credits, uses = rows.get(key, (0, 0))
        rows[key] = (credits + n % 5 + 1, uses + 1)
    session.expire_all()
    assert _usage_rows(session, user.id) == expected[user.id]
    assert _usage_rows(session, other.id) == expected[other.id]


def test_the_migration_sums_existing_rows_into_the_rollups(db_url):
    script = ScriptDirectory.from_config(alembic_config(db_url))
    previous = script.get_revision("0013").down_revision
    engine = make_engine(db_url)
    with Session(engine) as session:
        uid = _three_days(session)
        expected_usage = _usage_rows(session, uid)
        expected_ledger = _ledger_rows(session)
    engine.dispose()
    command.downgrade(alembic_config(db_url), previous)

    upgrade_database(db_url)

    engine = make_engine(db_url)
    with Session(engine) as session:
        assert _usage_rows(session, uid) == expected_usage
        assert _ledger_rows(session) == expected_ledger
        assert check_ledger(session=session) == []
        # The triggers are back too: a new spend lands in its row.
        spend_credits(
            session=session, user_id=uid, amount=2, feature="chat", idempotency_key="after",
            now=DAY3 + timedelta(hours=2),
        )  # fmt: skip
        assert _usage_rows(session, uid)[DAY3.date(), "chat"] == (3, 2)
    engine.dispose()
