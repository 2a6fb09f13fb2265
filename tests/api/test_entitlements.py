"""GET /api/me/entitlements: balance, holds, plan and 30-day usage of the token's user."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session

from credits_app.models import CreditHold, Price, Product, Subscription, utcnow
from credits_app.services.holds import reserve
from credits_app.services.ledger import grant_credits, spend_credits
from credits_app.services.lots import LotTerms
from tests.api.conftest import assert_error, bearer, key, spend_body

ENTITLEMENTS = "/api/me/entitlements"


def test_a_new_user_has_nothing_but_its_balance(client, user):
    response = client.get(ENTITLEMENTS, headers=bearer(user.id, feature="any-feature"))

    assert response.status_code == 200
    body = response.json()
    [lot] = body.pop("lots")
    assert body == {
        "userId": user.id,
        "balance": 100,
        "available": 100,
        "debt": 0,
        "holds": [],
        "subscription": None,
        "plan": None,
        "spentByFeature": {},
        "periodDays": 30,
        "nextExpiry": None,
    }
    # The fixture's grant: one paid lot that never expires (tests/api/test_grant_lots.py).
    assert (lot["amount"], lot["remaining"], lot["category"], lot["expiresAt"]) == (
        100,
        100,
        "paid",
        None,
    )


def test_usage_is_summed_by_feature_over_the_last_30_utc_days(client, user, engine, ledger_ok):
    for feature, amount in [("example-ai", 5), ("example-ai", 7)]:
        body = spend_body(amount, feature=feature)
        assert client.post(
            "/api/credits/spend", json=body, headers=bearer(user.id, feature)
        ).is_success
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(engine) as session:
        # Credits from 40 days ago, spent on the first day of the window and the day before.
        early = LotTerms(effective_at=today - timedelta(days=40))
        grant_credits(
            session=session,
            user_id=user.id,
            amount=20,
            reason="old",
            idempotency_key=key(),
            terms=early,
        )
        for amount, days_ago in [(3, 30), (2, 29)]:
            spend_credits(
                session=session,
                user_id=user.id,
                amount=amount,
                feature="image-gen",
                idempotency_key=key(),
                now=today - timedelta(days=days_ago) + timedelta(hours=1),
            )

    body = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()

    assert body["spentByFeature"] == {"example-ai": 12, "image-gen": 2}
    assert body["periodDays"] == 30
    assert body["balance"] == 100 + 20 - 12 - 3 - 2
    ledger_ok()


def test_active_holds_are_listed_and_not_available(client, user, session, ledger_ok):
    hold = reserve(
        session=session, user_id=user.id, amount=30, feature="example-ai", idempotency_key=key()
    )

    body = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()

    assert (body["balance"], body["available"]) == (100, 70)
    [listed] = body["holds"]
    assert (listed["id"], listed["feature"], listed["amount"]) == (hold.hold_id, "example-ai", 30)
    assert listed["expiresAt"]
    ledger_ok()


def test_a_hold_past_its_expiry_is_neither_listed_nor_held(client, user, engine, ledger_ok):
    with Session(engine) as session:
        reserve(
            session=session, user_id=user.id, amount=30, feature="example-ai", idempotency_key=key()
        )
        holds = CreditHold.__table__
        session.exec(update(holds).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    body = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()

    assert (body["balance"], body["available"], body["holds"]) == (100, 100, [])
    ledger_ok()


def test_an_active_subscription_shows_its_plan(client, user, session):
    session.add(Product(id="prod_1", name="Pro plan"))
    session.commit()
    session.add(
        Price(
            id="price_1",
            product_id="prod_1",
            kind="plan",
            interval="month",
            unit_amount=1900,
            currency="usd",
            included_credits=1000,
        )
    )
    session.commit()
    session.add(
        Subscription(
            id="sub_1",
            user_id=user.id,
            stripe_customer_id="cus_1",
            price_id="price_1",
            status="active",
            current_period_end=utcnow() + timedelta(days=30),
        )
    )
    session.commit()

    body = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()

    assert body["subscription"]["id"] == "sub_1"
    assert body["subscription"]["status"] == "active"
    assert body["subscription"]["cancelAtPeriodEnd"] is False
    assert body["plan"] == {
        "name": "Pro plan",
        "priceId": "price_1",
        "interval": "month",
        "includedCredits": 1000,
    }


def test_a_token_only_ever_reads_its_own_user(client, user, other_user):
    mine = client.get(ENTITLEMENTS, headers=bearer(user.id), params={"userId": other_user.id})

    assert mine.json()["userId"] == user.id


def test_entitlements_of_a_deleted_or_unknown_user_are_404(client, user):
    assert_error(client.get(ENTITLEMENTS, headers=bearer(user.id + 999)), 404, "not_found")
