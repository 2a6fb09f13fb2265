"""Usage delivered is usage paid: a run that stops early is charged for what it delivered."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlmodel import select

from credits_app.models import CreditHold, LedgerEntry
from credits_app.services.accounts import balance_of
from credits_app.services.ai import LocalProvider, actual_cost, estimate_cost, stream_example
from credits_app.services.ai import flow as ai_flow
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import spend_credits
from tests.support.cli import assert_check_ok

PROMPT = (
    "Our team loves the new dashboard. It is fast and reliable. "
    "The export button is broken, which is frustrating. Please fix the export soon."
)
# 57 words: with a few words of output it costs ceil((57 + 3) * 2 / 100) = 2 credits.
LONG_PROMPT = " ".join(["Support answered quickly and the charts are clear."] * 7) + " Thanks!"
STALL_TTL = 2  # seconds a test's hold lives; the consumer then stalls for longer


def _stream(user_id, key, prompt=PROMPT):
    return stream_example(
        user_id=user_id, prompt=prompt, idempotency_key=key, provider=LocalProvider(chunk_delay=0)
    )


def _state(session, user_id, hold_id):
    try:
        balance = balance_of(session=session, user_id=user_id)
        hold = session.get(CreditHold, hold_id)
        kinds = Counter(e.kind for e in session.exec(select(LedgerEntry)).all())
        return balance.balance, balance.available, hold.status, kinds
    finally:
        session.rollback()  # never keep SQLite's write lock while the flow runs


def test_closing_the_stream_mid_run_charges_the_chunks_delivered(funded_user, app_session, db_url):
    stream = _stream(funded_user.id, "closed")
    reserved = next(stream)
    delivered = next(stream).text + next(stream).text

    stream.close()

    cost = actual_cost(PROMPT, delivered)
    balance, available, status, kinds = _state(app_session, funded_user.id, reserved.hold_id)
    assert (balance, available, status) == (100 - cost, 100 - cost, "captured")
    assert kinds == Counter(grant=1, hold=1, capture=1)
    assert app_session.get(CreditHold, reserved.hold_id).result == delivered
    assert check_ledger(session=app_session) == []
    assert_check_ok(db_url)


def test_a_run_closed_before_any_output_costs_nothing(funded_user, app_session, db_url):
    stream = _stream(funded_user.id, "nothing")
    reserved = next(stream)

    stream.close()

    balance, available, status, _ = _state(app_session, funded_user.id, reserved.hold_id)
    assert (balance, available, status) == (100, 100, "released")
    assert_check_ok(db_url)


@pytest.fixture
def short_holds(monkeypatch):
    """Holds of AI runs live STALL_TTL seconds instead of minutes."""
    monkeypatch.setattr(ai_flow, "_hold_ttl", lambda: STALL_TTL)


def test_a_consumer_stalling_past_the_hold_pays_for_its_output_and_gets_no_more(
    funded_user, app_session, short_holds, db_url
):
    stream = _stream(funded_user.id, "stalled")
    reserved = next(stream)
    delivered = next(stream).text

    time.sleep(STALL_TTL + 0.3)  # the consumer stalls; the hold's time runs out
    rest = list(stream)

    cost = actual_cost(PROMPT, delivered)
    balance, available, status, kinds = _state(app_session, funded_user.id, reserved.hold_id)
    assert (balance, available, status) == (100 - cost, 100 - cost, "expired")
    assert [e.kind for e in rest] == ["failed"]
    assert (rest[0].code, rest[0].charged, rest[0].unpaid) == ("hold_expired", cost, 0)
    # The hold lapsed, so the delivered output is charged by a spend of its own.
    assert kinds == Counter(grant=1, hold=1, expire=1, spend=1)
    assert check_ledger(session=app_session) == []
    assert_check_ok(db_url)


def test_a_consumer_stalling_past_the_hold_then_hanging_up_still_pays(
    funded_user, app_session, short_holds, db_url
):
    stream = _stream(funded_user.id, "stalled-gone")
    reserved = next(stream)
    delivered = next(stream).text + next(stream).text

    time.sleep(STALL_TTL + 0.3)
    stream.close()

    cost = actual_cost(PROMPT, delivered)
    balance, _, status, kinds = _state(app_session, funded_user.id, reserved.hold_id)
    assert (balance, status) == (100 - cost, "expired")
    assert kinds == Counter(grant=1, hold=1, expire=1, spend=1)
    assert_check_ok(db_url)


def test_a_stalled_consumer_who_spent_the_credits_meanwhile_pays_what_is_left(
    funded_user, app_session, short_holds, db_url
):
    stream = _stream(funded_user.id, "stalled-broke", prompt=LONG_PROMPT)
    reserved = next(stream)
    delivered = next(stream).text
    cost = actual_cost(LONG_PROMPT, delivered)
    assert (cost, reserved.amount) == (2, estimate_cost(LONG_PROMPT))

    time.sleep(STALL_TTL + 0.3)
    # The lapsed hold gave its credits back; another request spends all but one of them.
    spend_credits(
        session=app_session, user_id=funded_user.id, amount=99, feature="other", idempotency_key="s"
    )
    rest = list(stream)

    balance, _, status, kinds = _state(app_session, funded_user.id, reserved.hold_id)
    assert (balance, status) == (0, "expired")
    assert [e.kind for e in rest] == ["failed"]
    assert (rest[0].code, rest[0].charged, rest[0].unpaid) == ("hold_expired", 1, 1)
    assert kinds == Counter(grant=1, hold=1, expire=1, spend=2)
    assert_check_ok(db_url)


def test_a_retry_of_a_run_that_stopped_early_replays_its_output_and_charge(
    funded_user, app_session, db_url
):
    stream = _stream(funded_user.id, "retried")
    next(stream)
    delivered = next(stream).text
    stream.close()
    cost = actual_cost(PROMPT, delivered)

    again = list(_stream(funded_user.id, "retried"))

    assert [e.kind for e in again] == ["reserved", "chunk", "failed"]
    assert again[0].replayed and again[1].text == delivered
    failed = again[-1]
    assert (failed.code, failed.charged, failed.result) == ("already_failed", cost, delivered)
    assert "disconnected" in failed.message
    assert balance_of(session=app_session, user_id=funded_user.id).balance == 100 - cost
    app_session.rollback()
    assert_check_ok(db_url)
