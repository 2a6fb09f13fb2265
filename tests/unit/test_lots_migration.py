"""Migration 0009 turns each existing balance into one never-expiring paid lot.

The database is built at revision 0008 and filled with the rows the code before lots wrote
(grants, spends, holds active, captured and released, a refund that left debt), then
upgraded. `check` passes before (the ledger's own invariants: there are no lots to check
yet) and after (lots included), and the users go on spending, capturing and releasing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from alembic import command
from credits_app.db import make_engine
from credits_app.migrations import alembic_config, upgrade_database
from credits_app.models import CreditLot, LotAllocation, utcnow
from credits_app.services import invariants
from credits_app.services.accounts import balance_of
from credits_app.services.billing.money_checks import check_money
from credits_app.services.holds import capture, release, reserve
from credits_app.services.holds.checks import holds_match_entries
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import grant_credits, spend_credits

BEFORE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # when the old code wrote the rows


class OldLedger:
    """Writes what the code before lots wrote, row for row, at revision 0008.

    Each write updates the account row and appends one entry with its after-values, as
    `post_grant`, `spend_credits`, `reserve`, `resolve_hold` and `post_clawback` did.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.state: dict[int, dict[str, int]] = {}
        self.clock = BEFORE

    def stamp(self, moment: datetime | None = None) -> Any:
        """A timestamp as each database stores it (SQLite: naive UTC text)."""
        moment = moment or self.clock
        return moment.replace(tzinfo=None).isoformat(sep=" ") if self.sqlite else moment

    def tick(self) -> Any:
        self.clock += timedelta(minutes=1)
        return self.stamp()

    def user(self, name: str) -> int:
        """A registered user and its account (created on registration); returns its id.

        The account's id is the user's, as each was the only account so far.
        """
        now = self.tick()
        user_id = self.conn.execute(
            text(
                "INSERT INTO app_user (email, password_hash, is_admin, created_at, "
                "email_verified_at) VALUES (:email, 'x', false, :now, :now) RETURNING id"
            ),
            {"email": f"{name}@example.com", "now": now},
        ).scalar_one()
        account_id = self.conn.execute(
            text(
                "INSERT INTO credit_account (user_id, kind, balance, held, debt, created_at, "
                "updated_at) VALUES (:user, 'user', 0, 0, 0, :now, :now) RETURNING id"
            ),
            {"user": user_id, "now": now},
        ).scalar_one()
        assert account_id == user_id
        self.state[user_id] = {"balance": 0, "held": 0, "debt": 0}
        return user_id

    def _entry(self, user_id: int, kind: str, amount: int, **values: Any) -> int:
        state = self.state[user_id]
        delta, held, debt = (values.pop(k, 0) for k in ("delta", "held_delta", "debt_delta"))
        state["balance"] += delta
        state["held"] += held
        state["debt"] += debt
        now = self.tick()
        row = {
            "account": user_id,
            "kind": kind,
            "amount": amount,
            "delta": delta,
            "held_delta": held,
            "debt_delta": debt,
            "key": values.pop("key"),
            "feature": values.pop("feature", None),
            "reason": values.pop("reason", None),
            "source": values.pop("source"),
            "ref": values.pop("ref", None),
            "hold": values.pop("hold", None),
            "now": now,
            **state,
        }
        entry_id = self.conn.execute(
            text(
                "INSERT INTO credit_ledger (account_id, user_id, kind, amount, delta, "
                "held_delta, debt_delta, balance_after, held_after, debt_after, "
                "idempotency_key, feature, reason, source, source_ref, hold_id, created_at) "
                "VALUES (:account, :account, :kind, :amount, :delta, :held_delta, "
                ":debt_delta, :balance, :held, :debt, :key, :feature, :reason, :source, :ref, "
                ":hold, :now) RETURNING id"
            ),
            row,
        ).scalar_one()
        self.conn.execute(
            text(
                "UPDATE credit_account SET balance = :balance, held = :held, debt = :debt, "
                "updated_at = :now WHERE id = :account"
            ),
            row,
        )
        return entry_id

    def _usage(self, user_id: int, feature: str, credits: int, entry_id: int) -> None:
        self.conn.execute(
            text(
                "INSERT INTO usage_event (user_id, feature, credits, entry_id, created_at) "
                "VALUES (:user, :feature, :credits, :entry, :now)"
            ),
            {
                "user": user_id,
                "feature": feature,
                "credits": credits,
                "entry": entry_id,
                "now": self.stamp(),
            },
        )

    def grant(self, user_id: int, amount: int, key: str, **values: Any) -> int:
        """A grant settles debt first."""
        settled = min(self.state[user_id]["debt"], amount)
        values.setdefault("source", "admin")
        values.setdefault("reason", "Welcome credits")
        return self._entry(
            user_id, "grant", amount, delta=amount - settled, debt_delta=-settled, key=key, **values
        )

    def spend(self, user_id: int, amount: int, key: str, feature: str = "chat") -> int:
        entry = self._entry(
            user_id, "spend", amount, delta=-amount, key=key, feature=feature, source="api"
        )
        self._usage(user_id, feature, amount, entry)
        return entry

    def hold(self, user_id: int, amount: int, key: str, expires_at: datetime) -> int:
        """An active hold and its `hold` entry."""
        hold_id = self.conn.execute(
            text(
                "INSERT INTO credit_hold (account_id, user_id, feature, amount, status, "
                "idempotency_key, created_at, expires_at, managed_by) VALUES (:account, "
                ":account, 'chat', :amount, 'active', :key, :now, :expires, 'api') RETURNING id"
            ),
            {
                "account": user_id,
                "amount": amount,
                "key": key,
                "now": self.stamp(),
                "expires": self.stamp(expires_at),
            },
        ).scalar_one()
        self._entry(
            user_id,
            "hold",
            amount,
            held_delta=amount,
            key=key,
            feature="chat",
            source="hold",
            ref=f"hold:{hold_id}",
            hold=hold_id,
        )
        return hold_id

    def resolve(self, user_id: int, hold_id: int, amount: int, captured: int) -> None:
        """Capture `captured` of a hold (release it when 0), releasing the rest."""
        kind, status = ("capture", "captured") if captured else ("release", "released")
        entry = self._entry(
            user_id,
            kind,
            captured or amount,
            delta=-captured,
            held_delta=-amount,
            key=f"{kind}:{hold_id}",
            feature="chat",
            source="hold",
            ref=f"hold:{hold_id}",
            hold=hold_id,
        )
        self.conn.execute(
            text(
                "UPDATE credit_hold SET status = :status, captured = :captured, "
                "resolved_at = :now WHERE id = :id"
            ),
            {"status": status, "captured": captured or None, "now": self.stamp(), "id": hold_id},
        )
        if captured:
            self._usage(user_id, "chat", captured, entry)

    def pack(self, user_id: int, credits: int, price: int) -> None:
        """A pack bought through Checkout: its purchase, line, payment and grant."""
        rows = {
            "user": user_id,
            "credits": credits,
            "price": price,
            "now": self.stamp(),
            "cs": f"cs_{user_id}",
            "pi": f"pi_{user_id}",
        }
        self.conn.execute(
            text(
                "INSERT INTO stripe_purchase (id, user_id, kind, payment_intent_id, currency, "
                "amount, amount_paid, credits, created_at) VALUES (:cs, :user, "
                "'checkout', :pi, 'usd', :price, :price, :credits, :now)"
            ),
            rows,
        )
        self.conn.execute(
            text(
                "INSERT INTO stripe_purchase_line (purchase_id, line_ref, price_id, quantity, "
                "amount, unit_amount, included_credits, proration, credits, description) VALUES "
                "(:cs, 'price_sim_starter', 'price_sim_starter', 1, :price, :price, "
                ":credits, false, :credits, NULL)"
            ),
            rows,
        )
        self.conn.execute(
            text(
                "INSERT INTO stripe_payment (payment_intent_id, user_id, source, source_ref, "
                "amount, currency, credits, created_at) VALUES (:pi, :user, "
                "'stripe_checkout', :cs, :price, 'usd', :credits, :now)"
            ),
            rows,
        )
        self.grant(
            user_id,
            credits,
            f"stripe_checkout:cs_{user_id}",
            source="stripe_checkout",
            ref=f"cs_{user_id}",
            reason=f"Starter Pack (Stripe checkout cs_{user_id})",
        )

    def refund(self, user_id: int, credits: int, price: int) -> None:
        """The full refund of the user's pack: takes what is available, the rest is debt."""
        self.conn.execute(
            text(
                "INSERT INTO stripe_refund (id, payment_intent_id, amount, credits, failed, "
                "created_at) VALUES (:re, :pi, :price, :credits, false, :now)"
            ),
            {
                "re": f"re_{user_id}",
                "pi": f"pi_{user_id}",
                "price": price,
                "credits": credits,
                "now": self.stamp(),
            },
        )
        taken = min(credits, self.state[user_id]["balance"] - self.state[user_id]["held"])
        self._entry(
            user_id,
            "clawback",
            credits,
            delta=-taken,
            debt_delta=credits - taken,
            key=f"stripe_refund:re_{user_id}",
            source="stripe_refund",
            ref=f"re_{user_id}",
            reason=f"Refund re_{user_id} of cs_{user_id}",
        )


@dataclass
class Before:
    """Who the old code left behind: user ids and hold ids by name."""

    users: dict[str, int] = field(default_factory=dict)
    holds: dict[str, int] = field(default_factory=dict)


def fill_before_lots(conn: Connection, hold_expires_at: datetime) -> Before:
    """Four users as the code before lots left them.

    - Ada: granted 1,000, spent 300, one hold captured (60 of 100), one released (50), one
      still active (200): balance 640, of which 200 held.
    - Bob: bought a 100-credit pack, spent 30, and holds the other 70; then the pack was
      refunded in full: nothing was available to take back, so all 100 became debt.
    - Cy: granted 100, all of it held by an active hold.
    - Eve: registered, never granted anything.
    """
    old, before = OldLedger(conn), Before()
    ada, bob, cy, eve = (old.user(name) for name in ("ada", "bob", "cy", "eve"))
    before.users = {"ada": ada, "bob": bob, "cy": cy, "eve": eve}
    old.grant(ada, 1000, "welcome-ada")
    old.spend(ada, 300, "spend-ada-1")
    captured = old.hold(ada, 100, "hold-ada-captured", hold_expires_at)
    old.resolve(ada, captured, 100, captured=60)
    released = old.hold(ada, 50, "hold-ada-released", hold_expires_at)
    old.resolve(ada, released, 50, captured=0)
    before.holds["ada"] = old.hold(ada, 200, "hold-ada-active", hold_expires_at)
    old.pack(bob, 100, 500)
    old.spend(bob, 30, "spend-bob-1")
    before.holds["bob"] = old.hold(bob, 70, "hold-bob-active", hold_expires_at)
    old.refund(bob, 100, 500)
    old.grant(cy, 100, "welcome-cy")
    before.holds["cy"] = old.hold(cy, 100, "hold-cy-active", hold_expires_at)
    assert old.state == {
        ada: {"balance": 640, "held": 200, "debt": 0},
        bob: {"balance": 70, "held": 70, "debt": 100},
        cy: {"balance": 100, "held": 100, "debt": 0},
        eve: {"balance": 0, "held": 0, "debt": 0},
    }
    return before


def fill_spent_out_user(conn: Connection) -> int:
    """Dee, who had nothing left: bought a 100-credit pack, used 80 of it through a hold
    captured in full, and was refunded: the 20 left were taken back, 80 became debt."""
    old = OldLedger(conn)
    dee = old.user("dee")
    old.pack(dee, 100, 500)
    hold = old.hold(dee, 80, "hold-dee", BEFORE + timedelta(minutes=30))
    old.resolve(dee, hold, 80, captured=80)
    old.refund(dee, 100, 500)
    assert old.state == {dee: {"balance": 0, "held": 0, "debt": 80}}
    return dee


def check_before_lots(session: Session) -> list[str]:
    """`check` as it stood before lots: every invariant of the ledger, holds and money.

    The lot invariants do not apply yet: there are no lots, and each balance is simply the
    sum of its entries. The accounts' rows are compared with their entries here directly,
    because `check_ledger` reads account columns that revision 0008 does not have yet.
    """
    totals = session.execute(
        text(
            "SELECT a.id FROM credit_account a LEFT JOIN (SELECT account_id, SUM(delta) AS b, "
            "SUM(held_delta) AS h, SUM(debt_delta) AS d FROM credit_ledger GROUP BY account_id)"
            " s ON s.account_id = a.id WHERE a.balance != COALESCE(s.b, 0) OR a.held != "
            "COALESCE(s.h, 0) OR a.debt != COALESCE(s.d, 0) OR a.held > a.balance"
        )
    ).all()
    return (
        [f"account {row.id}: its row is not the sum of its entries" for row in totals]
        + invariants._running_balances(session)
        + invariants._entry_signs(session)
        + invariants._usage_matches_spends(session)
        + invariants._holds_match_held(session)
        + holds_match_entries(session)
        + check_money(session)
    )


def lots_of(session: Session, user_id: int) -> list[CreditLot]:
    query = select(CreditLot).where(CreditLot.user_id == user_id).order_by(CreditLot.id)
    return list(session.exec(query).all())


def pins(session: Session, lot_id: int) -> list[tuple[int | None, int]]:
    query = select(LotAllocation.hold_id, LotAllocation.amount).where(
        LotAllocation.lot_id == lot_id
    )
    return sorted(session.exec(query).all())


@pytest.fixture
def at_0008(db_url):
    """An engine on the test database downgraded to revision 0008; back to head afterwards."""
    command.downgrade(alembic_config(db_url), "0008")
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
        upgrade_database(db_url)  # whatever happened, later tests find the schema at head


@pytest.fixture
def before_lots(at_0008) -> Before:
    """The database at 0008 with Ada, Bob, Cy and Eve as the old code left them."""
    with at_0008.begin() as conn:
        return fill_before_lots(conn, utcnow() + timedelta(hours=1))


def balances(session: Session, users: dict[str, int]) -> dict[str, tuple[int, int, int]]:
    """(balance, held, debt) per user name."""
    found = {name: balance_of(session=session, user_id=u) for name, u in users.items()}
    return {name: (b.balance, b.held, b.debt) for name, b in found.items()}


def test_each_balance_becomes_one_never_expiring_lot_and_check_passes_before_and_after(
    db_url, at_0008, before_lots
):
    users, holds = before_lots.users, before_lots.holds
    with Session(at_0008) as session:
        assert "credit_lot" not in inspect(session.connection()).get_table_names()
        assert check_before_lots(session) == []

    upgrade_database(db_url)

    with Session(at_0008, expire_on_commit=False) as session:
        assert check_ledger(session=session) == []
        found = {name: lots_of(session, user_id) for name, user_id in users.items()}
        assert found["eve"] == []
        for name, (balance, held) in {"ada": (640, 200), "bob": (70, 70), "cy": (100, 100)}.items():
            [lot] = found[name]
            assert (lot.amount, lot.remaining) == (balance, balance - held)
            assert (lot.category, lot.source, lot.priority) == ("paid", "migrated", 0)
            assert (lot.expires_at, lot.funded_by, lot.rollover_max) == (None, None, None)
            # Only the active hold pins credits; captured and released ones never had lots.
            assert pins(session, lot.id) == [(holds[name], -held)]
        assert balances(session, users) == {
            "ada": (640, 200, 0),
            "bob": (70, 70, 100),
            "cy": (100, 100, 0),
            "eve": (0, 0, 0),
        }


def test_after_the_migration_users_spend_capture_and_release_as_before(
    db_url, at_0008, before_lots
):
    users, holds = before_lots.users, before_lots.holds
    ada, bob, cy = users["ada"], users["bob"], users["cy"]
    upgrade_database(db_url)

    with Session(at_0008, expire_on_commit=False) as session:
        spend_credits(session=session, user_id=ada, amount=100, feature="chat", idempotency_key="1")
        capture(session=session, user_id=ada, hold_id=holds["ada"], amount=150, idempotency_key="2")
        release(session=session, user_id=bob, hold_id=holds["bob"], idempotency_key="3")
        grant_credits(
            session=session, user_id=bob, amount=150, reason="Goodwill", idempotency_key="4"
        )
        spend_credits(session=session, user_id=bob, amount=120, feature="chat", idempotency_key="5")
        release(session=session, user_id=cy, hold_id=holds["cy"], idempotency_key="6")
        hold = reserve(session=session, user_id=cy, amount=30, feature="chat", idempotency_key="7")
        capture(session=session, user_id=cy, hold_id=hold.hold_id, amount=30, idempotency_key="8")

        [ada_lot], bob_lots, [cy_lot] = (lots_of(session, u) for u in (ada, bob, cy))
        # Ada: 640 - 100 spent - 150 captured; the 50 the hold kept back are free again.
        assert (ada_lot.amount, ada_lot.remaining) == (640, 390)
        # Bob: the grant paid his 100 of debt first; the spend took the older lot first.
        assert [(lot.source, lot.amount, lot.remaining) for lot in bob_lots] == [
            ("migrated", 70, 0),
            ("admin", 150, 0),
        ]
        assert (cy_lot.amount, cy_lot.remaining) == (100, 70)
        assert balances(session, {"ada": ada, "bob": bob, "cy": cy}) == {
            "ada": (390, 0, 0),
            "bob": (0, 0, 0),
            "cy": (70, 0, 0),
        }
        assert check_ledger(session=session) == []


def test_the_migration_downgrades_to_0008_keeping_every_balance(db_url, at_0008, before_lots):
    users = before_lots.users
    upgrade_database(db_url)
    with Session(at_0008) as session:
        spend_credits(
            session=session, user_id=users["ada"], amount=40, feature="chat", idempotency_key="s"
        )

    command.downgrade(alembic_config(db_url), "0008")

    with Session(at_0008) as session:
        connection = inspect(session.connection())
        assert {"credit_lot", "lot_allocation"} & set(connection.get_table_names()) == set()
        columns = {c["name"] for c in connection.get_columns("credit_account")}
        assert {"owner_type", "owner_id"} & columns == set()
        rows = session.execute(text("SELECT user_id, balance, held, debt FROM credit_account"))
        assert sorted(tuple(row) for row in rows) == [
            (users["ada"], 600, 200, 0),
            (users["bob"], 70, 70, 100),
            (users["cy"], 100, 100, 0),
            (users["eve"], 0, 0, 0),
        ]
        assert check_before_lots(session) == []
    upgrade_database(db_url)
    with Session(at_0008) as session:
        assert check_ledger(session=session) == []
        lots = lots_of(session, users["ada"])
        assert [(lot.amount, lot.remaining) for lot in lots] == [(600, 400)]


def test_a_user_with_nothing_left_passes_the_check_after_the_migration(db_url, at_0008):
    with at_0008.begin() as conn:
        dee = fill_spent_out_user(conn)
    with Session(at_0008) as session:
        assert check_before_lots(session) == []

    upgrade_database(db_url)

    with Session(at_0008) as session:
        assert lots_of(session, dee) == []
        assert balances(session, {"dee": dee}) == {"dee": (0, 0, 80)}
        assert check_ledger(session=session) == []
