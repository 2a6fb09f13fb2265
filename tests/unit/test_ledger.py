"""The ledger as bookkeeping: worked examples of grants, spends, replays and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from credits_app.models import LedgerEntry, UsageEvent
from credits_app.services.accounts import balance_of
from credits_app.services.errors import (
    IdempotencyConflict,
    InsufficientCredits,
    InvalidAmount,
    InvalidRequest,
    UserNotFound,
)
from credits_app.services.history import ledger_history, spent_by_feature, usage_history
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import (
    grant_credits,
    post_clawback,
    spend_credits,
)
from tests.support.factories import give, make_user

BAD_AMOUNTS = [0, -1, 1.5, "10", 10**30, None, True, 1.0, 10**9 + 1]


def count_entries(session) -> int:
    return session.exec(select(func.count()).select_from(LedgerEntry)).scalar_one()


def spend(session, user_id, amount, key, feature="ai-generation"):
    return spend_credits(
        session=session, user_id=user_id, amount=amount, feature=feature, idempotency_key=key
    )


def test_grant_then_spend_moves_the_balance_and_records_both_entries(session):
    user = make_user(session)

    granted = grant_credits(
        session=session, user_id=user.id, amount=100, reason="welcome", idempotency_key="g1"
    )
    spent = spend(session, user.id, 30, "s1")

    assert (granted.balance, spent.balance) == (100, 70)
    assert not granted.replayed and not spent.replayed
    history = ledger_history(session=session, user_id=user.id)
    assert [(e.kind, e.delta, e.balance_after) for e in history] == [
        ("spend", -30, 70),
        ("grant", 100, 100),
    ]
    assert history[0].feature == "ai-generation" and history[1].reason == "welcome"
    assert balance_of(session=session, user_id=user.id).balance == 70
    assert check_ledger(session=session) == []


def test_every_spend_records_a_usage_event(session):
    user = make_user(session, credits=50)

    spend(session, user.id, 5, "a", feature="summarise")
    spend(session, user.id, 7, "b", feature="translate")
    spend(session, user.id, 3, "c", feature="summarise")

    events = usage_history(session=session, user_id=user.id)
    assert [(e.feature, e.credits) for e in events] == [
        ("summarise", 3),
        ("translate", 7),
        ("summarise", 5),
    ]
    assert spent_by_feature(session=session, user_id=user.id) == {"summarise": 8, "translate": 7}


def test_a_spend_larger_than_the_balance_is_refused_and_writes_nothing(session):
    user = make_user(session, credits=10)
    before = count_entries(session)

    with pytest.raises(InsufficientCredits) as refused:
        spend(session, user.id, 11, "too-much")

    assert (refused.value.balance, refused.value.required) == (10, 11)
    assert count_entries(session) == before
    assert balance_of(session=session, user_id=user.id).balance == 10


def test_spending_exactly_the_balance_leaves_zero(session):
    user = make_user(session, credits=10)

    assert spend(session, user.id, 10, "all").balance == 0
    with pytest.raises(InsufficientCredits):
        spend(session, user.id, 1, "one-more")


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_bad_amounts_are_refused_and_change_nothing(session, amount):
    user = make_user(session, credits=100)
    before = count_entries(session)

    with pytest.raises(InvalidAmount) as spend_error:
        spend(session, user.id, amount, "bad-spend")
    with pytest.raises(InvalidAmount):
        grant_credits(
            session=session, user_id=user.id, amount=amount, reason="x", idempotency_key="bad"
        )

    assert spend_error.value.field == "amount"
    assert count_entries(session) == before
    assert balance_of(session=session, user_id=user.id).balance == 100


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("idempotencyKey", {"idempotency_key": ""}),
        ("idempotencyKey", {"idempotency_key": "k" * 256}),
        ("idempotencyKey", {"idempotency_key": "tab\there"}),
        ("idempotencyKey", {"idempotency_key": 42}),
        ("feature", {"feature": ""}),
        ("feature", {"feature": "has space"}),
        ("feature", {"feature": None}),
    ],
)
def test_bad_keys_and_features_name_the_field(session, field, kwargs):
    user = make_user(session, credits=5)
    request = {"amount": 1, "feature": "ai", "idempotency_key": "ok", **kwargs}

    with pytest.raises(InvalidRequest) as error:
        spend_credits(session=session, user_id=user.id, **request)

    assert error.value.field == field
    assert balance_of(session=session, user_id=user.id).balance == 5


def test_a_retried_spend_replays_the_original_result_without_a_new_entry(session):
    user = make_user(session, credits=100)
    first = spend(session, user.id, 40, "request-1")
    entries = count_entries(session)

    again = spend(session, user.id, 40, "request-1")

    assert again.replayed and again.entry_id == first.entry_id
    assert again.balance == first.balance == 60
    assert count_entries(session) == entries
    assert balance_of(session=session, user_id=user.id).balance == 60


def test_a_retry_replays_even_after_the_credits_ran_out(session):
    user = make_user(session, credits=10)
    first = spend(session, user.id, 10, "last-ten")

    again = spend(session, user.id, 10, "last-ten")

    assert again.replayed and again.entry_id == first.entry_id


def test_reusing_a_key_for_a_different_spend_is_a_conflict_naming_the_fields(session):
    user = make_user(session, credits=100)
    spend(session, user.id, 10, "k", feature="chat")

    with pytest.raises(IdempotencyConflict) as amount_differs:
        spend(session, user.id, 11, "k", feature="chat")
    with pytest.raises(IdempotencyConflict) as both_differ:
        spend(session, user.id, 12, "k", feature="image")

    assert amount_differs.value.fields == ["amount"]
    assert both_differ.value.fields == ["amount", "feature"]
    assert balance_of(session=session, user_id=user.id).balance == 90


def test_grant_keys_replay_and_conflict_like_spend_keys(session):
    user = make_user(session)
    first = grant_credits(
        session=session, user_id=user.id, amount=50, reason="promo", idempotency_key="g"
    )

    again = grant_credits(
        session=session, user_id=user.id, amount=50, reason="promo", idempotency_key="g"
    )
    with pytest.raises(IdempotencyConflict) as conflict:
        grant_credits(
            session=session, user_id=user.id, amount=50, reason="other", idempotency_key="g"
        )

    assert again.replayed and again.entry_id == first.entry_id
    assert conflict.value.fields == ["reason"]
    assert balance_of(session=session, user_id=user.id).balance == 50


def test_keys_are_per_user_and_per_operation(session):
    alice = make_user(session, credits=10)
    bob = make_user(session, credits=10)

    spend(session, alice.id, 1, "shared-key")
    spend(session, bob.id, 1, "shared-key")
    grant_credits(
        session=session, user_id=alice.id, amount=5, reason="r", idempotency_key="shared-key"
    )

    assert balance_of(session=session, user_id=alice.id).balance == 14
    assert balance_of(session=session, user_id=bob.id).balance == 9


def test_unknown_users_are_not_found(session):
    with pytest.raises(UserNotFound):
        grant_credits(session=session, user_id=999, amount=1, reason="r", idempotency_key="k")
    with pytest.raises(UserNotFound):
        spend(session, 999, 1, "k")
    with pytest.raises(UserNotFound):
        balance_of(session=session, user_id=999)
    assert count_entries(session) == 0


def test_the_database_itself_refuses_a_negative_balance(session):
    user = make_user(session, credits=5)

    with pytest.raises(IntegrityError):
        session.exec(
            text("UPDATE credit_account SET balance = -1 WHERE user_id = :u").bindparams(u=user.id)
        )
    session.rollback()
    with pytest.raises(IntegrityError):
        session.exec(
            text("UPDATE credit_account SET held = 6 WHERE user_id = :u").bindparams(u=user.id)
        )
    session.rollback()

    assert balance_of(session=session, user_id=user.id).balance == 5


def test_a_clawback_of_spent_credits_becomes_debt_settled_by_the_next_grant(session):
    user = make_user(session, credits=100)
    spend(session, user.id, 80, "used")

    post_clawback(
        session,
        user_id=user.id,
        amount=50,
        reason="refund",
        idempotency_key="refund-1",
        source="test_refund",
        source_ref="re_1",
    )
    session.commit()
    after_clawback = balance_of(session=session, user_id=user.id)
    give(session, user.id, 100, reason="renewal")
    after_grant = balance_of(session=session, user_id=user.id)

    assert (after_clawback.balance, after_clawback.debt) == (0, 30)
    assert (after_grant.balance, after_grant.debt) == (70, 0)
    assert [(e.kind, e.amount, e.delta) for e in ledger_history(session=session, user_id=user.id)][
        :2
    ] == [
        ("grant", 100, 70),
        ("clawback", 50, -20),
    ]
    assert check_ledger(session=session) == []


def test_one_source_object_can_only_be_clawed_back_once(session):
    user = make_user(session, credits=100)
    claw = dict(
        user_id=user.id, amount=10, reason="refund", source="test_refund", source_ref="re_9"
    )
    post_clawback(session, idempotency_key="first", **claw)
    session.commit()

    with pytest.raises(IntegrityError):
        post_clawback(session, idempotency_key="second", **claw)
    session.rollback()

    assert balance_of(session=session, user_id=user.id).balance == 90


def test_history_pages_newest_first(session):
    user = make_user(session)
    for n in range(1, 6):
        give(session, user.id, n)

    first_page = ledger_history(session=session, user_id=user.id, limit=2)
    second_page = ledger_history(
        session=session, user_id=user.id, limit=2, before_id=first_page[-1].id
    )

    assert [e.amount for e in first_page] == [5, 4]
    assert [e.amount for e in second_page] == [3, 2]
    with pytest.raises(InvalidRequest):
        ledger_history(session=session, user_id=user.id, limit=0)


@pytest.mark.ledger_corrupted("a test of check: it corrupts the balance row")
def test_check_reports_a_balance_row_that_disagrees_with_its_entries(session):
    user = make_user(session, credits=10)
    # Simulate corruption behind the ledger's back (an operator's manual UPDATE).
    session.exec(
        text("UPDATE credit_account SET balance = 11 WHERE user_id = :u").bindparams(u=user.id)
    )
    session.commit()

    problems = check_ledger(session=session)

    assert any("balance row is 11 but its entries sum to 10" in p for p in problems)


@pytest.mark.ledger_corrupted("a test of check: it deletes a usage event")
def test_check_reports_a_spend_without_its_usage_event(session):
    user = make_user(session, credits=10)
    spend(session, user.id, 2, "k")
    session.exec(text("DELETE FROM usage_event"))
    session.commit()

    problems = check_ledger(session=session)

    assert any("has no usage event" in p for p in problems)
    assert session.exec(select(func.count()).select_from(UsageEvent)).scalar_one() == 0
