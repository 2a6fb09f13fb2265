"""Random sequences of grants, spends, replays and bad input against a simple model."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import LedgerEntry
from credits_app.services.accounts import balance_of
from credits_app.services.errors import (
    IdempotencyConflict,
    InsufficientCredits,
    InvalidRequest,
)
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import grant_credits, post_clawback, spend_credits
from tests.support.factories import make_user

amounts = st.integers(min_value=1, max_value=500)
bad_amounts = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=10**9 + 1),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
)


def make_machine(engine):
    """Build a state machine class bound to this test's database engine."""

    class LedgerMachine(RuleBasedStateMachine):
        """The model: balance, debt, entry count, and every request made per key."""

        @initialize()
        def open_account(self):
            self.session = Session(engine, expire_on_commit=False)
            self.user_id = make_user(self.session).id
            self.balance = 0
            self.debt = 0
            self.entries = 0
            self.requests: dict[tuple[str, str], tuple] = {}
            self.counter = 0

        def teardown(self):
            self.session.close()

        def _new_key(self) -> str:
            self.counter += 1
            return f"k{self.counter}"

        @rule(amount=amounts)
        def grant(self, amount):
            key = self._new_key()
            grant_credits(
                session=self.session,
                user_id=self.user_id,
                amount=amount,
                reason="model",
                idempotency_key=key,
            )
            settled = min(self.debt, amount)
            self.debt -= settled
            self.balance += amount - settled
            self.entries += 1
            self.requests[("grant", key)] = (amount, "model")

        @rule(amount=amounts, feature=st.sampled_from(["chat", "image"]))
        def spend(self, amount, feature):
            key = self._new_key()
            try:
                spend_credits(
                    session=self.session,
                    user_id=self.user_id,
                    amount=amount,
                    feature=feature,
                    idempotency_key=key,
                )
            except InsufficientCredits:
                assert amount > self.balance
                return
            assert amount <= self.balance
            self.balance -= amount
            self.entries += 1
            self.requests[("spend", key)] = (amount, feature)

        @rule(amount=amounts)
        def clawback(self, amount):
            post_clawback(
                self.session,
                user_id=self.user_id,
                amount=amount,
                reason="refund",
                idempotency_key=self._new_key(),
                source="model_refund",
                source_ref=f"re_{self.user_id}_{self.counter}",
            )
            self.session.commit()
            taken = min(self.balance, amount)
            self.balance -= taken
            self.debt += amount - taken
            self.entries += 1

        @rule(data=st.data())
        def replay(self, data):
            spends = sorted(k for k in self.requests if k[0] == "spend")
            if not spends:
                return
            _, key = data.draw(st.sampled_from(spends))
            amount, feature = self.requests[("spend", key)]
            result = spend_credits(
                session=self.session,
                user_id=self.user_id,
                amount=amount,
                feature=feature,
                idempotency_key=key,
            )
            assert result.replayed

        @rule(data=st.data())
        def conflicting_replay(self, data):
            if not self.requests:
                return
            kind, key = data.draw(st.sampled_from(sorted(self.requests)))
            amount, _ = self.requests[(kind, key)]
            try:
                if kind == "spend":
                    spend_credits(
                        session=self.session,
                        user_id=self.user_id,
                        amount=amount + 1,
                        feature="chat",
                        idempotency_key=key,
                    )
                else:
                    grant_credits(
                        session=self.session,
                        user_id=self.user_id,
                        amount=amount + 1,
                        reason="model",
                        idempotency_key=key,
                    )
            except IdempotencyConflict as conflict:
                assert "amount" in conflict.fields
            else:
                raise AssertionError("a reused key with another amount must conflict")

        @rule(amount=bad_amounts, operation=st.sampled_from(["spend", "grant"]))
        def invalid(self, amount, operation):
            try:
                if operation == "spend":
                    spend_credits(
                        session=self.session,
                        user_id=self.user_id,
                        amount=amount,
                        feature="chat",
                        idempotency_key=self._new_key(),
                    )
                else:
                    grant_credits(
                        session=self.session,
                        user_id=self.user_id,
                        amount=amount,
                        reason="model",
                        idempotency_key=self._new_key(),
                    )
            except InvalidRequest:
                return
            raise AssertionError(f"amount {amount!r} must be refused")

        @invariant()
        def ledger_matches_model(self):
            if not hasattr(self, "session"):
                return
            balance = balance_of(session=self.session, user_id=self.user_id)
            assert (balance.balance, balance.debt) == (self.balance, self.debt)
            count = select(func.count()).where(LedgerEntry.user_id == self.user_id)
            assert self.session.exec(count).scalar_one() == self.entries
            assert check_ledger(session=self.session) == []
            self.session.rollback()

    return LedgerMachine


def test_random_operation_sequences_keep_every_invariant(engine):
    run_state_machine_as_test(
        make_machine(engine),
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
