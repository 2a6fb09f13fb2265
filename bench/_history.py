"""Bulk-insert a long, ledger-consistent history for one user (entries, usage, allocations).

The database's rollup triggers sum every inserted row into the daily rollups, as they do
for the app's own writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import _common
from sqlalchemy import create_engine, text

# History rows are all spends of one credit after one grant, so every after-value is exact.
# They are spread over the last DAYS days (x % DAYS days before now), as real usage is, so
# the 30-day totals cover about half of them.
DAYS = 60
HISTORY_SQL = (
    "INSERT INTO credit_ledger (account_id, user_id, kind, amount, delta, held_delta,"
    " debt_delta, balance_after, held_after, debt_after, idempotency_key, feature, source,"
    " created_at) SELECT :a, :u, 'spend', 1, -1, 0, 0, :n - x, 0, 0, 'hist-' || x, 'bench',"
    " 'api', {when} FROM {series}"
)
# The same text format the app writes on SQLite (microseconds included), shifted by days.
SQLITE_WHEN = (
    f"strftime('%Y-%m-%d %H:%M:%S', :now, '-' || (x % {DAYS}) || ' days') || substr(:now, 20)"
)
POSTGRES_WHEN = f"CAST(:now AS timestamptz) - make_interval(days => (x % {DAYS})::int)"
# The grant's lot is spendable from before the oldest spend.
LOT_WINDOW_SQL = "UPDATE credit_lot SET effective_at = :start WHERE account_id = :a"
# Each spend drew its credit from the user's one lot (seeded with the grant).
ALLOCATION_SQL = (
    "INSERT INTO lot_allocation (lot_id, entry_id, amount)"
    " SELECT :lot, id, -1 FROM credit_ledger WHERE account_id = :a AND kind = 'spend'"
)
USAGE_SQL = (
    "INSERT INTO usage_event (user_id, feature, credits, entry_id, created_at)"
    " SELECT user_id, feature, 1, id, created_at FROM credit_ledger WHERE kind = 'spend'"
)


def fill_history(url: str, rows: int) -> int:
    """Create one user whose ledger has `rows` entries (a grant, then spends); return its id."""
    user_id = _common.seed_users(url, 1, credits=rows)[0]
    spends = rows - 1
    sqlite = url.startswith("sqlite")
    series = "g" if sqlite else "generate_series(1, :m) AS g(x)"
    prefix = "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :m) "
    now = datetime.now(UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        account = conn.execute(
            text("SELECT id FROM credit_account WHERE user_id = :u"), {"u": user_id}
        ).scalar_one()
        when = SQLITE_WHEN if sqlite else POSTGRES_WHEN
        sql = (prefix if sqlite else "") + HISTORY_SQL.format(series=series, when=when)
        stamp = _common.db_stamp(url, now)
        start = _common.db_stamp(url, now - timedelta(days=DAYS + 1))
        conn.execute(text(LOT_WINDOW_SQL), {"start": start, "a": account})
        params = {"a": account, "u": user_id, "n": rows, "m": spends, "now": stamp}
        conn.execute(text(sql), params)
        conn.execute(text(USAGE_SQL))
        lot = conn.execute(
            text("SELECT id FROM credit_lot WHERE account_id = :a"), {"a": account}
        ).scalar_one()
        conn.execute(text(ALLOCATION_SQL), {"lot": lot, "a": account})
        left = {"b": rows - spends, "a": account}
        conn.execute(text("UPDATE credit_account SET balance = :b WHERE id = :a"), left)
        conn.execute(text("UPDATE credit_lot SET remaining = :b WHERE account_id = :a"), left)
    # Settle the bulk load (visibility map, statistics) as autovacuum eventually would.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if sqlite else "VACUUM ANALYZE"))
    engine.dispose()
    return user_id
