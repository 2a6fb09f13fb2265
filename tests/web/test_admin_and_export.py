"""Admin grants record the admin; the CSV export and the chart read the user's own data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from credits_app.models import utcnow
from credits_app.services.admin_grants import admin_grant
from credits_app.services.errors import Forbidden, InvalidRequest
from credits_app.services.history import ledger_history
from credits_app.services.ledger import spend_credits
from credits_app.services.ledger_export import ledger_csv
from credits_app.services.purchase_status import credits_from_checkout
from credits_app.services.usage_chart import daily_spend
from tests.support.factories import give, make_user


def test_an_admin_grant_records_the_admin_as_actor(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    result = admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=40,
        reason="goodwill",
        idempotency_key="g-1",
    )
    assert result.balance == 40
    entry = ledger_history(session=session, user_id=user.id)[0]
    assert (entry.actor_user_id, entry.source, entry.reason) == (admin.id, "admin", "goodwill")


def test_non_admins_cannot_grant_and_large_grants_need_confirmation(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    with pytest.raises(Forbidden):
        admin_grant(
            session=session,
            admin_user_id=user.id,
            user_id=user.id,
            amount=5,
            reason="self",
            idempotency_key="g-2",
        )
    big = app_settings.admin_grant_confirm_threshold + 1
    with pytest.raises(InvalidRequest):
        admin_grant(
            session=session,
            admin_user_id=admin.id,
            user_id=user.id,
            amount=big,
            reason="big",
            idempotency_key="g-3",
        )
    assert ledger_history(session=session, user_id=user.id) == []
    admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=big,
        reason="big",
        idempotency_key="g-3",
        confirmed=True,
    )
    assert ledger_history(session=session, user_id=user.id)[0].amount == big


def test_csv_export_has_every_entry_of_the_user_only_and_defuses_formulas(session, app_settings):
    user = make_user(session)
    other = make_user(session, credits=99)
    give(session, user.id, 10, reason='=HYPERLINK("x")')
    spend_credits(session=session, user_id=user.id, amount=3, feature="chat", idempotency_key="s")
    rows = list(csv.DictReader(io.StringIO(ledger_csv(session=session, user_id=user.id))))
    assert [r["delta"] for r in rows] == ["-3", "10"]
    assert rows[0]["description"] == "Spent on chat"
    assert rows[1]["reason"].startswith("'=")
    assert other.email not in ledger_csv(session=session, user_id=user.id)


def test_daily_spend_has_30_days_and_sums_per_feature(session, app_settings):
    user = make_user(session, credits=100)
    for key, (feature, amount) in enumerate([("chat", 2), ("chat", 3), ("image", 5)]):
        spend_credits(
            session=session,
            user_id=user.id,
            amount=amount,
            feature=feature,
            idempotency_key=str(key),
        )
    spend = daily_spend(session=session, user_id=user.id)
    assert len(spend.rows) == 30
    assert spend.features == ["chat", "image"]
    assert spend.rows[-1]["chat"] == 5 and spend.rows[-1]["image"] == 5
    assert spend.total == 10
    tomorrow = daily_spend(
        session=session, user_id=user.id, today=utcnow().date() + timedelta(days=40)
    )
    assert tomorrow.total == 0


def test_checkout_credits_are_found_by_session_id(session, app_settings):
    from credits_app.models import StripePurchase, StripePurchaseLine
    from credits_app.services.ledger import post_grant

    user = make_user(session)
    assert credits_from_checkout(session=session, user_id=user.id, checkout_session_id="cs_1") == 0
    # What the webhook records for a paid $5.00 starter pack of 100 credits.
    session.add(
        StripePurchase(
            id="cs_1",
            user_id=user.id,
            kind="checkout",
            currency="usd",
            amount=500,
            amount_paid=500,
            credits=100,
        )
    )
    session.flush()
    session.add(
        StripePurchaseLine(
            purchase_id="cs_1",
            line_ref="price_starter",
            price_id="price_starter",
            amount=500,
            unit_amount=500,
            included_credits=100,
            credits=100,
        )
    )
    post_grant(
        session,
        user_id=user.id,
        amount=100,
        reason="Starter Pack",
        idempotency_key="k",
        source="stripe_checkout",
        source_ref="cs_1",
    )
    session.commit()
    assert (
        credits_from_checkout(session=session, user_id=user.id, checkout_session_id="cs_1") == 100
    )
    stranger = make_user(session)
    assert (
        credits_from_checkout(session=session, user_id=stranger.id, checkout_session_id="cs_1") == 0
    )
