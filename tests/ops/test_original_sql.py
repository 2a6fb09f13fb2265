"""The original system's Troubleshooting SQL runs unchanged, on SQLite and on PostgreSQL.

Its queries, exactly as its README prints them (USER_ID replaced by a user's id), and the
same with Prisma's quoted names, which people paste too.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session

from credits_app.db import make_engine
from credits_app.models import Subscription, utcnow
from credits_app.services.holds import capture, reserve
from credits_app.services.ledger import spend_credits
from tests.support.factories import make_user

BALANCE = "SELECT SUM(delta) FROM CreditLedger WHERE userId = 'USER_ID';"
RECENT = "SELECT * FROM CreditLedger WHERE userId = 'USER_ID' ORDER BY createdAt DESC;"
ACTIVE = "SELECT * FROM Subscription WHERE userId = 'USER_ID' AND status = 'active';"

QUOTED_BALANCE = 'SELECT SUM(delta) FROM "CreditLedger" WHERE "userId" = \'USER_ID\';'
QUOTED_ACTIVE = (
    'SELECT "id", "status" FROM "Subscription" '
    "WHERE \"userId\" = 'USER_ID' AND status = 'active';"
)
USAGE = "SELECT feature, credits FROM UsageEvent WHERE userId = 'USER_ID' ORDER BY createdAt;"
QUOTED_USAGE = 'SELECT "feature", "credits" FROM "UsageEvent" WHERE "userId" = \'USER_ID\';'

LEDGER_COLUMNS = [
    "id", "userId", "delta", "reason", "idempotencyKey", "createdAt", "kind", "amount",
    "feature", "source", "sourceRef", "balanceAfter", "holdId",
]  # fmt: skip
SUBSCRIPTION_COLUMNS = [
    "id", "user_id", "stripe_customer_id", "price_id", "status", "current_period_start",
    "current_period_end", "cancel_at_period_end", "canceled_at", "stripe_state_at",
    "updated_at", "userid",
]  # fmt: skip


def _run(session: Session, sql: str, user_id: int):
    return session.execute(text(sql.replace("USER_ID", str(user_id)).rstrip(";")))


def _world(session: Session) -> tuple[int, list[int]]:
    """A user with a grant, a spend and a captured hold; another user; three subscriptions.

    Returns:
        The user's id and their ledger entry ids, oldest first.
    """
    user = make_user(session, credits=100).id
    other = make_user(session, credits=40).id
    spent = spend_credits(
        session=session, user_id=user, amount=30, feature="summarize", idempotency_key="s1"
    )
    hold = reserve(session=session, user_id=user, amount=20, feature="chat", idempotency_key="h1")
    captured = capture(
        session=session, user_id=user, hold_id=hold.hold_id, amount=5, idempotency_key="c1"
    )
    now = utcnow()
    for sub_id, owner, status in [
        ("sub_active", user, "active"),
        ("sub_old", user, "canceled"),
        ("sub_other", other, "active"),
    ]:
        session.add(
            Subscription(
                id=sub_id,
                user_id=owner,
                stripe_customer_id=f"cus_{owner}",
                price_id="price_monthly",
                status=status,
                current_period_start=now,
                current_period_end=now + timedelta(days=30),
            )
        )
    session.commit()
    ids = session.execute(
        text("SELECT id FROM credit_ledger WHERE user_id = :u ORDER BY id"), {"u": user}
    ).scalars()
    entries = list(ids)
    assert entries[1:] == [spent.entry_id, entries[2], captured.entry_id]
    return user, entries


def test_the_originals_debug_queries_run_unchanged(session):
    user, entries = _world(session)
    postgres = session.get_bind().dialect.name == "postgresql"

    balance = _run(session, BALANCE, user).scalar_one()
    recent = _run(session, RECENT, user)
    recent_columns, recent_rows = list(recent.keys()), recent.all()
    active = _run(session, ACTIVE, user)
    active_columns, active_rows = list(active.keys()), active.all()

    # 100 granted, 30 spent, 20 held of which 5 captured: the balance row says the same.
    assert balance == 65
    assert (
        balance
        == session.execute(
            text("SELECT balance FROM credit_account WHERE user_id = :u"), {"u": user}
        ).scalar_one()
    )
    # PostgreSQL folds unquoted names to lower case, so that is how it names the columns.
    assert recent_columns == [c.lower() for c in LEDGER_COLUMNS] if postgres else LEDGER_COLUMNS
    assert [(r[0], r[1], r[2], r[6]) for r in recent_rows] == [
        (entries[3], user, -5, "capture"),
        (entries[2], user, 0, "hold"),
        (entries[1], user, -30, "spend"),
        (entries[0], user, 100, "grant"),
    ]
    assert [r[3] for r in recent_rows][-1] == "test grant"
    assert [r[5] for r in recent_rows] == sorted((r[5] for r in recent_rows), reverse=True)
    # `Subscription` is our own table on both databases, with `userid` for this query.
    assert active_columns == SUBSCRIPTION_COLUMNS
    assert [(r[0], r[1], r[4], r[11]) for r in active_rows] == [
        ("sub_active", user, "active", user)
    ]


def test_prismas_quoted_names_work_too(session):
    user, _entries = _world(session)

    assert _run(session, QUOTED_BALANCE, user).scalar_one() == 65
    assert _run(session, QUOTED_ACTIVE, user).all() == [("sub_active", "active")]
    assert _run(session, USAGE, user).all() == [("summarize", 30), ("chat", 5)]
    assert sorted(_run(session, QUOTED_USAGE, user).all()) == [("chat", 5), ("summarize", 30)]


def test_the_subscription_view_has_the_originals_names_on_postgresql(postgres_url):
    # On SQLite "Subscription" is the table itself (names match without regard to case).
    engine = make_engine(postgres_url)
    with Session(engine) as session:
        user, _entries = _world(session)
        found = _run(session, 'SELECT * FROM "Subscription" WHERE "userId" = \'USER_ID\'', user)
        columns, rows = list(found.keys()), found.all()
    engine.dispose()

    assert columns == [
        "id", "userId", "stripeSubscriptionId", "stripeCustomerId", "stripePriceId", "status",
        "currentPeriodStart", "currentPeriodEnd", "cancelAtPeriodEnd", "canceledAt", "updatedAt",
    ]  # fmt: skip
    assert sorted((r[0], r[2], r[5]) for r in rows) == [
        ("sub_active", "sub_active", "active"),
        ("sub_old", "sub_old", "canceled"),
    ]
