"""Random sequences over credit lots, checked step by step against a plain model of lots.

The model knows every lot (what is left in it, its window, its place in the burn order),
every hold (which lots it pins, and how much of each) and the debt, and it predicts every
ledger entry a step writes together with the lots that entry moved. The clock is simulated:
each step runs at the model's `now`, which a rule moves forward (sometimes exactly onto the
next moment a lot starts or ends, or a hold runs out), so nothing sleeps.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlmodel import Session

from credits_app.models import CreditAccount, CreditLot, LedgerEntry, LotAllocation
from credits_app.services.accounts import balance_of
from credits_app.services.errors import InsufficientCredits, InvalidRequest
from credits_app.services.holds import HoldExpired, capture, release, reserve
from credits_app.services.holds.expiry import expire_due, expire_due_lots
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import LotTerms, grant_credits, post_clawback, spend_credits
from credits_app.services.lots import hold_pins
from tests.support.factories import make_user

BASE = datetime(2031, 3, 30, 23, 0, tzinfo=UTC)  # a month's end, and a DST change in Europe
# Every example's leftovers are swept away at this moment, so the next example's sweeps
# count only its own lots and holds.
FAR_FUTURE = BASE + timedelta(days=3650)
TICK = timedelta(microseconds=1)
FUNDERS = ("cs_test_a", "cs_test_b")
FEATURE = "model-ai"

amounts = st.integers(min_value=1, max_value=50)
costs = st.integers(min_value=1, max_value=30)
categories = st.sampled_from(["paid", "promotional"])
MINUTES = [TICK, timedelta(seconds=1), timedelta(seconds=30), timedelta(minutes=5)]
spans = st.sampled_from([*MINUTES, timedelta(hours=1), timedelta(days=1), timedelta(days=2)])
AHEAD = [timedelta(0), timedelta(seconds=1), timedelta(minutes=5), timedelta(days=1)]
starts = st.sampled_from([None, None, -timedelta(days=1), -timedelta(seconds=1), *AHEAD])
# Mostly short moves, so lots and holds live through several steps before they end.
steps = st.sampled_from(
    [*MINUTES, *MINUTES, timedelta(hours=1), timedelta(days=1), timedelta(days=31)]
)


@dataclass
class Lot:
    """A lot as the model sees it; `db_id` is learned once the step that made it ran."""

    uid: int
    amount: int
    remaining: int
    category: str
    priority: int
    effective_at: datetime
    expires_at: datetime | None
    source: str
    funded_by: str | None = None
    rollover_max: int | None = None
    db_id: int | None = None

    def burn_key(self) -> tuple:
        """Priority, soonest end (never last), promotional first, oldest first."""
        never = self.expires_at is None
        return (
            self.priority,
            never,
            self.expires_at or BASE,
            self.category != "promotional",
            self.effective_at,
            self.uid,
        )

    def spendable(self, now: datetime) -> bool:
        """Whether its credits can be spent at `now`."""
        ended = self.expires_at is not None and self.expires_at <= now
        return self.remaining > 0 and self.effective_at <= now and not ended

    def ended(self, now: datetime) -> bool:
        """Whether its window is over at `now`."""
        return self.expires_at is not None and self.expires_at <= now


@dataclass
class Hold:
    """A hold: its amount, when it runs out, and what it pins in which lot (burn order)."""

    hold_id: int
    amount: int
    expires_at: datetime
    pins: dict[int, int]
    status: str = "active"


@dataclass
class Entry:
    """One ledger entry the model expects, with the lots it moved (by lot uid)."""

    kind: str
    delta: int
    held_delta: int = 0
    debt_delta: int = 0
    moved: dict[int, int] = field(default_factory=dict)


class Shortfall(Exception):
    """The model's InsufficientCredits: how much was spendable."""

    def __init__(self, available: int) -> None:
        super().__init__(available)
        self.available = available


class LotsModel:
    """Plain Python bookkeeping of one user's lots, holds and debt."""

    def __init__(self) -> None:
        self.lots: dict[int, Lot] = {}
        self.holds: dict[int, Hold] = {}
        self.debt = 0
        self.written: list[Entry] = []
        self._uids = itertools.count(1)

    # Reading
    @property
    def held(self) -> int:
        """Credits reserved by active holds."""
        return sum(h.amount for h in self.holds.values() if h.status == "active")

    @property
    def balance(self) -> int:
        """Every credit left in a lot plus what holds keep."""
        return sum(lot.remaining for lot in self.lots.values()) + self.held

    def waiting(self, now: datetime) -> int:
        """Credits in lots that start after `now`."""
        return sum(lot.remaining for lot in self.lots.values() if lot.effective_at > now)

    def in_burn_order(self, lots) -> list[Lot]:
        """`lots` sorted in burn order."""
        return sorted(lots, key=Lot.burn_key)

    def spendable(self, now: datetime) -> int:
        """Credits that a spend at `now` can draw."""
        return sum(lot.remaining for lot in self.lots.values() if lot.spendable(now))

    # Writing
    def _post(self, entry: Entry) -> None:
        for uid, amount in entry.moved.items():
            self.lots[uid].remaining += amount
            assert 0 <= self.lots[uid].remaining <= self.lots[uid].amount
        self.debt += entry.debt_delta
        self.written.append(entry)

    def new_lot(self, amount: int, now: datetime, terms: LotTerms) -> Lot:
        """Grant a lot, settling debt from it first."""
        effective_at = terms.effective_at or now
        if terms.effective_at is None and terms.expires_at and terms.expires_at <= now:
            effective_at = terms.expires_at - TICK  # restored after its end: ended already
        lot = Lot(
            uid=next(self._uids),
            amount=amount,
            remaining=amount,
            category=terms.category,
            priority=terms.priority,
            effective_at=effective_at,
            expires_at=terms.expires_at,
            source=terms.source,
            funded_by=terms.funded_by,
            rollover_max=terms.rollover_max,
        )
        self.lots[lot.uid] = lot
        settled = min(self.debt, amount)  # whatever the window: debt is paid by grants
        moved = {lot.uid: -settled} if settled else {}
        self._post(Entry("grant", amount - settled, 0, -settled, moved))
        return lot

    def _roll_over(self, lot: Lot, left: int, now: datetime) -> None:
        credits = min(left, lot.rollover_max or 0)
        if credits <= 0:
            return
        length = lot.expires_at - lot.effective_at
        terms = LotTerms(
            source="rollover",
            category=lot.category,
            priority=lot.priority,
            effective_at=lot.expires_at,
            expires_at=lot.expires_at + length,
            funded_by=lot.funded_by,
        )
        self.new_lot(credits, now, terms)

    def _expire(self, lot: Lot) -> int:
        left = lot.remaining
        self._post(Entry("expire", -left, moved={lot.uid: -left}))
        return left

    def expire_lots(self, now: datetime) -> int:
        """Expire due lots, oldest end first, rolling plan periods over; return how many."""
        count = 0
        while due := sorted(
            (lot for lot in self.lots.values() if lot.remaining > 0 and lot.ended(now)),
            key=lambda lot: (lot.expires_at, lot.uid),
        ):
            for lot in due:
                self._roll_over(lot, self._expire(lot), now)
                count += 1
        return count

    def _resolve(self, hold: Hold, kind: str, captured: int, now: datetime) -> None:
        """Capture `captured` and give the rest back, last-pinned lot first."""
        back, returns = hold.amount - captured, {}
        for lot in reversed(self.in_burn_order(self.lots[u] for u in hold.pins)):
            if back == 0:
                break
            uid = lot.uid
            returns[uid] = min(hold.pins[uid], back)
            back -= returns[uid]
        hold.status = {"capture": "captured", "release": "released", "expire": "expired"}[kind]
        self._post(Entry(kind, -captured, -hold.amount, 0, returns))
        # What goes back to a lot that ended meanwhile expires at once (it does not roll over).
        for uid in returns:
            if self.lots[uid].ended(now):
                self._expire(self.lots[uid])

    def expire_holds(self, now: datetime) -> int:
        """Release every active hold that ran out, in the order they were made."""
        due = [h for _, h in sorted(self.holds.items()) if h.status == "active"]
        due = [h for h in due if h.expires_at <= now]
        for hold in due:
            self._resolve(hold, "expire", 0, now)
        return len(due)

    def lazy(self, now: datetime) -> tuple[int, int]:
        """What every write does first under the account lock: (holds, lots) expired."""
        lots = self.expire_lots(now)
        return self.expire_holds(now), lots

    def plan(self, amount: int, now: datetime, first: str | None = None) -> tuple[dict, int]:
        """Draw `amount` in burn order (lots `first` funded before any other): (draws, short)."""
        live = self.in_burn_order(lot for lot in self.lots.values() if lot.spendable(now))
        if first:
            live = [lot for lot in live if lot.funded_by == first] + [
                lot for lot in live if lot.funded_by != first
            ]
        draws, need = {}, amount
        for lot in live:
            if need == 0:
                break
            draws[lot.uid] = min(lot.remaining, need)
            need -= draws[lot.uid]
        return draws, need

    def grant(self, amount: int, now: datetime, terms: LotTerms) -> Lot:
        """A grant: due lots and holds end first, then the lot; it ends at once if past."""
        self.lazy(now)
        lot = self.new_lot(amount, now, terms)
        self.expire_lots(now)
        return lot

    def spend(self, amount: int, now: datetime) -> Entry:
        """A spend in burn order; raises Shortfall after the lazy expiries."""
        self.lazy(now)
        draws, short = self.plan(amount, now)
        if short:
            raise Shortfall(amount - short)
        entry = Entry("spend", -amount, moved={uid: -n for uid, n in draws.items()})
        self._post(entry)
        return entry

    def reserve(self, amount: int, now: datetime) -> dict[int, int]:
        """Pin `amount` in burn order; the caller records the hold under its id."""
        self.lazy(now)
        draws, short = self.plan(amount, now)
        if short:
            raise Shortfall(amount - short)
        self._post(Entry("hold", 0, amount, 0, {uid: -n for uid, n in draws.items()}))
        return draws

    def settle(self, hold_id: int, captured: int | None, now: datetime) -> None:
        """Capture (an amount) or release (None) a hold; raises HoldExpired if it ran out."""
        self.lazy(now)
        hold = self.holds[hold_id]
        if hold.status == "expired":
            raise HoldExpired(hold_id)
        kind = "release" if captured is None else "capture"
        self._resolve(hold, kind, captured or 0, now)

    def clawback(self, amount: int, now: datetime, funded_by: str | None) -> None:
        """Take back `amount` (what funded_by paid for first); the shortfall becomes debt."""
        self.lazy(now)
        draws, short = self.plan(amount, now, first=funded_by)
        taken = amount - short
        self._post(Entry("clawback", -taken, 0, short, {u: -n for u, n in draws.items()}))

    def view(self, now: datetime) -> tuple[int, int, int, int]:
        """(balance, held, debt, waiting) as a read at `now` shows them: after lazy expiry."""
        later = copy.deepcopy(self)
        later.lazy(now)
        return later.balance, later.held, later.debt, later.waiting(now)


def _entries_since(session: Session, user_id: int, after: int) -> list[tuple]:
    rows = session.exec(
        select(
            LedgerEntry.id,
            LedgerEntry.kind,
            LedgerEntry.delta,
            LedgerEntry.held_delta,
            LedgerEntry.debt_delta,
        )
        .where(LedgerEntry.user_id == user_id, LedgerEntry.id > after)
        .order_by(LedgerEntry.id)
    ).all()
    moved: dict[int, dict[int, int]] = {row.id: {} for row in rows}
    if rows:
        allocations = session.exec(
            select(LotAllocation.entry_id, LotAllocation.lot_id, LotAllocation.amount).where(
                LotAllocation.entry_id.in_(list(moved))
            )
        ).all()
        for entry_id, lot_id, amount in allocations:
            assert lot_id not in moved[entry_id], "one entry moved one lot twice"
            moved[entry_id][lot_id] = amount
    return [(r.id, r.kind, r.delta, r.held_delta, r.debt_delta, moved[r.id]) for r in rows]


def _by_id(moved: dict[int, int], ids: dict[int, int]) -> dict[int, int]:
    return {ids[uid]: amount for uid, amount in moved.items()}


def make_machine(engine):
    """Build a state machine class bound to this test's database engine."""

    class LotsMachine(RuleBasedStateMachine):
        """Grants, spends, holds, clawbacks, restores, clock moves and sweeps on one user."""

        @initialize(
            first=st.lists(
                st.tuples(amounts, categories, starts, st.one_of(st.none(), spans)),
                min_size=1,
                max_size=3,
            )
        )
        def open_account(self, first):
            """A new user, who starts with a few lots."""
            self.session = Session(engine, expire_on_commit=False)
            self.user_id = make_user(self.session).id
            self.model = LotsModel()
            self.now = BASE
            self.keys = itertools.count(1)
            self.last_entry = 0
            self.spends: dict[str, tuple[int, object]] = {}
            self.reserved: dict[str, tuple[int, object]] = {}
            for amount, category, start, length in first:
                self._grant(amount, self._terms(category, 0, start, length, None))

        def teardown(self):
            if hasattr(self, "session"):
                expire_due(session=self.session, now=FAR_FUTURE)
                self.session.close()

        def _key(self, prefix: str) -> str:
            return f"{prefix}-{next(self.keys)}"

        # Grants
        @rule(
            amount=amounts,
            category=categories,
            priority=st.integers(0, 2),
            start=starts,
            length=st.one_of(st.none(), st.none(), spans),
            funded_by=st.sampled_from([None, *FUNDERS]),
            empty=st.sampled_from([None, None, None, None, timedelta(0), TICK]),
        )
        def grant(self, amount, category, priority, start, length, funded_by, empty):
            terms = self._terms(category, priority, start, length, funded_by)
            if empty is not None:
                opens = terms.effective_at or self.now
                self._refuse_an_empty_window(amount, opens, opens - empty)
            else:
                self._grant(amount, terms)

        def _terms(self, category, priority, start, length, funded_by) -> LotTerms:
            """Terms of a lot starting `start` from now (None: at once), lasting `length`."""
            effective_at = None if start is None else self.now + start
            opens = effective_at or self.now
            return LotTerms(
                source="purchase" if funded_by else "admin",
                category=category,
                priority=priority,
                effective_at=effective_at,
                expires_at=None if length is None else opens + length,
                funded_by=funded_by,
            )

        @rule(
            amount=amounts,
            ago=st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=29)]),
            length=st.sampled_from([timedelta(minutes=5), timedelta(days=1), timedelta(days=30)]),
            cap=st.one_of(st.none(), st.integers(1, 80)),
        )
        def grant_plan_period(self, amount, ago, length, cap):
            start = self.now - ago
            if start + length <= self.now:
                return
            terms = LotTerms(
                source="plan_period",
                effective_at=start,
                expires_at=start + length,
                funded_by="in_test_plan",
                rollover_max=cap,
            )
            self._grant(amount, terms)

        @rule(
            amount=amounts,
            data=st.data(),
            ends=st.sampled_from(
                [None, -timedelta(days=1), -TICK, timedelta(0), TICK, timedelta(hours=1)]
            ),
        )
        def restore(self, amount, data, ends):
            """A won dispute or a failed refund: the original lot's terms, from now on."""
            funded = sorted(
                (lot for lot in self.model.lots.values() if lot.funded_by in FUNDERS),
                key=lambda lot: lot.uid,
            )
            if funded:
                first = data.draw(st.sampled_from(FUNDERS))
                original = next((lot for lot in funded if lot.funded_by == first), funded[0])
                expires_at = original.expires_at
            else:
                original, expires_at = None, None if ends is None else self.now + ends
            terms = LotTerms(
                source="restore",
                category=original.category if original else "paid",
                priority=original.priority if original else 0,
                expires_at=expires_at,
                funded_by=original.funded_by if original else None,
            )
            self._grant(amount, terms)

        def _grant(self, amount: int, terms: LotTerms) -> None:
            result = grant_credits(
                session=self.session,
                user_id=self.user_id,
                amount=amount,
                reason="model grant",
                idempotency_key=self._key("g"),
                terms=terms,
                now=self.now,
            )
            self.model.grant(amount, self.now, terms)
            self._expect_result(result)

        def _refuse_an_empty_window(self, amount: int, starts: datetime, ends: datetime) -> None:
            """A lot that would end before it starts is refused, and nothing is written."""
            try:
                self._grant(amount, LotTerms(effective_at=starts, expires_at=ends))
            except InvalidRequest as refused:
                assert refused.field == "expiresAt"
            else:
                raise AssertionError("a lot ending before it starts must be refused")

        # Spending
        @rule(amount=costs)
        def spend(self, amount):
            key = self._key("s")
            try:
                result = spend_credits(
                    session=self.session,
                    user_id=self.user_id,
                    amount=amount,
                    feature=FEATURE,
                    idempotency_key=key,
                    now=self.now,
                )
            except InsufficientCredits as refused:
                try:
                    self.model.spend(amount, self.now)
                except Shortfall as short:
                    assert refused.balance == short.available
                    return
                raise AssertionError("the model could pay for this spend") from None
            self.model.spend(amount, self.now)
            self._expect_result(result)
            self.spends[key] = (amount, result)

        @precondition(lambda self: self.spends)
        @rule(data=st.data())
        def replay_spend(self, data):
            """A retried spend answers as the first time, whatever happened since."""
            key = data.draw(st.sampled_from(sorted(self.spends)))
            amount, first = self.spends[key]
            again = spend_credits(
                session=self.session,
                user_id=self.user_id,
                amount=amount,
                feature=FEATURE,
                idempotency_key=key,
                now=self.now,
            )
            assert again == replace(first, replayed=True)
            # A replay that could have been paid rolls back its lazy expiries with the rest.
            later = copy.deepcopy(self.model)
            later.lazy(self.now)
            if later.spendable(self.now) < amount:
                self.model = later

        @rule(amount=costs, ttl=st.sampled_from([1, 30, 300, 3600]))
        def reserve(self, amount, ttl):
            key = self._key("h")
            try:
                hold = reserve(
                    session=self.session,
                    user_id=self.user_id,
                    amount=amount,
                    feature=FEATURE,
                    idempotency_key=key,
                    ttl_seconds=ttl,
                    now=self.now,
                )
            except InsufficientCredits as refused:
                try:
                    self.model.reserve(amount, self.now)
                except Shortfall as short:
                    assert refused.balance == short.available
                    return
                raise AssertionError("the model could reserve this") from None
            pins = self.model.reserve(amount, self.now)
            self.model.holds[hold.hold_id] = Hold(
                hold.hold_id, amount, self.now + timedelta(seconds=ttl), pins
            )
            assert (hold.balance, hold.available) == self._written_balance()
            self.reserved[key] = (amount, hold)

        @precondition(lambda self: self.reserved)
        @rule(data=st.data())
        def replay_reserve(self, data):
            key = data.draw(st.sampled_from(sorted(self.reserved)))
            amount, first = self.reserved[key]
            again = reserve(
                session=self.session,
                user_id=self.user_id,
                amount=amount,
                feature=FEATURE,
                idempotency_key=key,
                ttl_seconds=300,
                now=self.now,
            )
            assert again == replace(first, replayed=True)
            self.model.lazy(self.now)

        def _active_hold(self, data) -> int | None:
            active = sorted(i for i, h in self.model.holds.items() if h.status == "active")
            return data.draw(st.sampled_from(active)) if active else None

        @rule(data=st.data(), part=st.floats(0, 1))
        def capture(self, data, part):
            hold_id = self._active_hold(data)
            if hold_id is None:
                return
            amount = max(1, round(self.model.holds[hold_id].amount * part))
            self._settle(hold_id, amount)

        @rule(data=st.data())
        def release(self, data):
            hold_id = self._active_hold(data)
            if hold_id is not None:
                self._settle(hold_id, None)

        def _settle(self, hold_id: int, amount: int | None) -> None:
            common = {
                "session": self.session,
                "user_id": self.user_id,
                "hold_id": hold_id,
                "idempotency_key": self._key("r"),
                "now": self.now,
            }
            try:
                done = capture(**common, amount=amount) if amount else release(**common)
            except HoldExpired:
                try:
                    self.model.settle(hold_id, amount, self.now)
                except HoldExpired:
                    return
                raise AssertionError("the hold had not run out yet") from None
            self.model.settle(hold_id, amount, self.now)
            assert (done.balance, done.available) == self._written_balance()

        # Taking back
        @rule(amount=costs, funded_by=st.sampled_from([None, *FUNDERS]))
        def clawback(self, amount, funded_by):
            result = post_clawback(
                self.session,
                user_id=self.user_id,
                amount=amount,
                reason="model refund or dispute",
                idempotency_key=self._key("c"),
                source="test_refund" if funded_by else "test_dispute",
                source_ref=self._key(f"re-{self.user_id}"),
                now=self.now,
                funded_by=funded_by,
            )
            self.session.commit()
            self.model.clawback(amount, self.now, funded_by)
            self._expect_result(result)

        # Time
        @rule(step=steps)
        def advance(self, step):
            self.now += step

        @rule(just_before=st.booleans())
        def advance_to_next_boundary(self, just_before):
            """Move onto (or a microsecond before) the next start or end of a lot or hold."""
            moments = [h.expires_at for h in self.model.holds.values() if h.status == "active"]
            for lot in self.model.lots.values():
                moments += [lot.effective_at, lot.expires_at or self.now]
            later = [m for m in moments if m > self.now]
            if later:
                self.now = min(later) - (TICK if just_before else timedelta(0))

        @rule(lots_only=st.booleans())
        def sweep(self, lots_only):
            """The sweeper: everything due for this user ends in one locked transaction."""
            if lots_only:
                lots = self.model.lots.values()
                due = any(lot.remaining > 0 and lot.ended(self.now) for lot in lots)
                expected = self.model.lazy(self.now)[1] if due else 0
                assert expire_due_lots(session=self.session, now=self.now) == expected
            else:
                assert expire_due(session=self.session, now=self.now) == self.model.lazy(self.now)

        # Checks
        def _written_balance(self) -> tuple[int, int]:
            """The model's (balance, available) right after its last write."""
            m = self.model
            return m.balance, m.balance - m.held - m.waiting(self.now)

        def _expect_result(self, result) -> None:
            assert (result.balance, result.available) == self._written_balance()

        def _sync_new_lots(self) -> dict[int, int]:
            """Pair the lots the step created with the model's, in order; return uid -> id."""
            known = {lot.db_id for lot in self.model.lots.values() if lot.db_id}
            rows = (
                self.session.exec(
                    select(CreditLot)
                    .where(CreditLot.user_id == self.user_id)
                    .order_by(CreditLot.id)
                )
                .scalars()
                .all()
            )
            new_rows = [row for row in rows if row.id not in known]
            new_lots = [lot for lot in self.model.lots.values() if lot.db_id is None]
            assert len(new_rows) == len(new_lots)
            for row, lot in zip(new_rows, sorted(new_lots, key=lambda lot: lot.uid), strict=True):
                made = (row.amount, row.category, row.priority, row.effective_at, row.expires_at)
                assert made == (
                    lot.amount,
                    lot.category,
                    lot.priority,
                    lot.effective_at,
                    lot.expires_at,
                ), f"lot {row.id}"
                assert (row.source, row.funded_by, row.rollover_max) == (
                    lot.source,
                    lot.funded_by,
                    lot.rollover_max,
                )
                lot.db_id = row.id
            return {row.id: row.remaining for row in rows}

        @invariant()
        def database_matches_model(self):
            if not hasattr(self, "session"):
                return
            session, model = self.session, self.model
            remaining = self._sync_new_lots()
            ids = {lot.uid: lot.db_id for lot in model.lots.values()}
            # Each lot's remaining.
            assert remaining == {lot.db_id: lot.remaining for lot in model.lots.values()}
            # Every entry of the step, in order, with the lots it drew from or gave back to.
            written = _entries_since(session, self.user_id, self.last_entry)
            expected = [
                (
                    e.kind,
                    e.delta,
                    e.held_delta,
                    e.debt_delta,
                    {ids[u]: n for u, n in e.moved.items()},
                )
                for e in model.written
            ]
            assert [w[1:] for w in written] == expected
            if written:
                self.last_entry = written[-1][0]
            model.written.clear()
            # The balance row as written, and the balance as a read shows it now.
            account = (
                session.exec(select(CreditAccount).where(CreditAccount.user_id == self.user_id))
                .scalars()
                .one_or_none()
            )
            row = (account.balance, account.held, account.debt) if account else (0, 0, 0)
            assert row == (model.balance, model.held, model.debt)
            read = balance_of(session=session, user_id=self.user_id, now=self.now)
            balance, held, debt, waiting = model.view(self.now)
            assert (read.balance, read.held, read.debt, read.waiting) == (
                balance,
                held,
                debt,
                waiting,
            )
            assert read.available == balance - held - waiting
            # What each active hold pins, in burn order.
            for hold in model.holds.values():
                if hold.status == "active":
                    pins = [(p.id, -p.pinned) for p in hold_pins(session, hold.hold_id)]
                    order = model.in_burn_order(model.lots[u] for u in hold.pins)
                    assert pins == [(lot.db_id, hold.pins[lot.uid]) for lot in order]
            assert check_ledger(session=session) == []
            session.rollback()

    return LotsMachine


def test_random_lot_sequences_match_the_model(engine):
    run_state_machine_as_test(
        make_machine(engine),
        settings=settings(
            max_examples=25,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
