"""The admin grant's lot terms (`category`, `expiresAt`) and the lots in /api/me/entitlements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from credits_app.models import CreditLot, LedgerEntry, utcnow
from credits_app.services.admin_grants import grant_lot_credits
from credits_app.services.ledger import spend_credits
from tests.api.conftest import admin, assert_error, bearer, key

GRANT = "/api/credits/grant"
ENTITLEMENTS = "/api/me/entitlements"


def _body(user_id: int, **extra) -> dict:
    return {
        "userId": user_id,
        "amount": 40,
        "reason": "launch promotion",
        "idempotencyKey": key(),
        **extra,
    }


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _iso(moment: datetime) -> str:
    """How the API writes a UTC moment: 2026-12-09T11:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lots_of(engine, user_id: int) -> list[CreditLot]:
    with Session(engine) as session:
        query = select(CreditLot).where(CreditLot.user_id == user_id).order_by(CreditLot.id)
        return list(session.exec(query).all())


def test_a_promotional_grant_with_an_expiry_is_one_lot_with_those_terms(
    client, user, engine, ledger_ok
):
    # Given with a +02:00 offset: stored as the same instant in UTC.
    ends = _whole_seconds(utcnow() + timedelta(days=20))
    paris = ends.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert paris.endswith("+02:00")

    response = client.post(
        GRANT,
        json=_body(user.id, category="promotional", expiresAt=paris),
        headers=admin(),
    )

    assert response.status_code == 200, response.text
    assert response.json()["balance"] == 140
    lot = _lots_of(engine, user.id)[-1]
    with Session(engine) as session:
        entry = session.get(LedgerEntry, response.json()["entryId"])
    assert (lot.amount, lot.remaining, lot.category, lot.source) == (40, 40, "promotional", "admin")
    assert lot.expires_at == ends
    assert lot.entry_id == entry.id and entry.source == "admin_api"
    assert lot.effective_at <= entry.created_at
    ledger_ok()


def test_without_terms_a_grant_is_paid_and_never_expires(client, user, engine, ledger_ok):
    response = client.post(
        GRANT, json=_body(user.id, category=None, expiresAt=None), headers=admin()
    )

    assert response.status_code == 200, response.text
    lot = _lots_of(engine, user.id)[-1]
    assert (lot.amount, lot.category, lot.expires_at) == (40, "paid", None)
    ledger_ok()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),  # in the past
        ({"expiresAt": "2031-01-01T00:00:00"}, "expiresAt"),  # no offset
        ({"expiresAt": "2031-01-01"}, "expiresAt"),  # a date alone
        ({"expiresAt": "2031-02-30T00:00:00Z"}, "expiresAt"),  # no such day
        ({"expiresAt": "2031-01-01T25:00:00Z"}, "expiresAt"),
        ({"expiresAt": "9999-12-31T23:59:59-23:59"}, "expiresAt"),  # past year 9999 in UTC
        ({"expiresAt": "2300-01-01T00:00:00Z"}, "expiresAt"),  # more than 100 years away
        ({"expiresAt": 1924992000}, "expiresAt"),  # a number, not ISO 8601
        ({"expiresAt": "next friday"}, "expiresAt"),
        ({"category": "gift"}, "category"),
        ({"category": "Paid"}, "category"),
        ({"category": 1}, "category"),
    ],
)
def test_a_bad_expiry_or_category_is_a_422_naming_it_and_writes_nothing(
    client, user, engine, extra, field
):
    before = _lots_of(engine, user.id)

    response = client.post(GRANT, json=_body(user.id, **extra), headers=admin())

    error = assert_error(response, 422, "invalid_request")
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert _lots_of(engine, user.id) == before
    with Session(engine) as session:
        grants = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user.id)).all()
    assert [g.amount for g in grants] == [100]  # only the fixture's grant


def test_an_expiry_a_moment_ago_is_refused_as_not_in_the_future(client, user):
    just_gone = _iso(utcnow() - timedelta(seconds=1))

    response = client.post(GRANT, json=_body(user.id, expiresAt=just_gone), headers=admin())

    error = assert_error(response, 422, "invalid_request")
    assert error["message"] == "expiresAt: must be in the future"


def test_a_replay_must_repeat_the_category_and_expiry(client, user, engine, ledger_ok):
    ends = _iso(utcnow() + timedelta(days=30))
    body = _body(user.id, category="promotional", expiresAt=ends)
    first = client.post(GRANT, json=body, headers=admin())

    again = client.post(GRANT, json=body, headers=admin())
    # The same instant written with another offset is the same request.
    same_instant = datetime.fromisoformat(ends).astimezone(timezone(timedelta(hours=-5)))
    again_elsewhere = client.post(
        GRANT, json={**body, "expiresAt": same_instant.isoformat()}, headers=admin()
    )
    other_expiry = client.post(
        GRANT, json={**body, "expiresAt": _iso(utcnow() + timedelta(days=31))}, headers=admin()
    )
    never = client.post(GRANT, json={**body, "expiresAt": None}, headers=admin())
    paid = client.post(GRANT, json={**body, "category": "paid"}, headers=admin())
    both = client.post(GRANT, json={**body, "category": None, "expiresAt": None}, headers=admin())

    assert first.status_code == 200 and first.json()["replayed"] is False
    assert again.status_code == 200 and again.json() == {**first.json(), "replayed": True}
    assert again_elsewhere.status_code == 200 and again_elsewhere.json()["replayed"] is True
    assert assert_error(other_expiry, 409, "idempotency_conflict")["fields"] == ["expiresAt"]
    assert assert_error(never, 409, "idempotency_conflict")["fields"] == ["expiresAt"]
    assert assert_error(paid, 409, "idempotency_conflict")["fields"] == ["category"]
    assert assert_error(both, 409, "idempotency_conflict")["fields"] == [
        "category",
        "expiresAt",
    ]
    assert [lot.amount for lot in _lots_of(engine, user.id)] == [100, 40]
    ledger_ok()


def test_a_key_first_used_without_terms_conflicts_with_terms_added_later(client, user, ledger_ok):
    body = _body(user.id)
    assert client.post(GRANT, json=body, headers=admin()).status_code == 200

    promotional = client.post(GRANT, json={**body, "category": "promotional"}, headers=admin())
    explicit_paid = client.post(GRANT, json={**body, "category": "paid"}, headers=admin())

    assert assert_error(promotional, 409, "idempotency_conflict")["fields"] == ["category"]
    assert explicit_paid.status_code == 200 and explicit_paid.json()["replayed"] is True
    ledger_ok()


def test_entitlements_list_lots_in_burn_order_and_the_next_expiry(
    client, user, session, engine, ledger_ok
):
    now = utcnow()
    soon = _whole_seconds(now + timedelta(days=10))
    later = _whole_seconds(now + timedelta(days=20))
    for amount, category, ends in [
        (30, "promotional", soon),
        (50, "paid", soon),
        (20, "paid", later),
    ]:
        grant_lot_credits(
            session=session,
            user_id=user.id,
            amount=amount,
            reason="setup",
            idempotency_key=key(),
            source="admin_api",
            category=category,
            expires_at=ends,
        )
    # Burn order: the soonest expiry first, promotional before paid at the same moment.
    spend_credits(
        session=session, user_id=user.id, amount=35, feature="example-ai", idempotency_key=key()
    )
    lots = _lots_of(engine, user.id)

    body = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()

    assert (body["balance"], body["available"]) == (165, 165)
    assert body["nextExpiry"] == {"at": _iso(soon), "credits": 45}
    assert [
        (lot["id"], lot["amount"], lot["remaining"], lot["category"], lot["expiresAt"])
        for lot in body["lots"]
    ] == [
        (lots[2].id, 50, 45, "paid", _iso(soon)),
        (lots[3].id, 20, 20, "paid", _iso(later)),
        (lots[0].id, 100, 100, "paid", None),
    ]
    assert {lot["source"] for lot in body["lots"]} == {"admin"}
    assert all(lot["priority"] == 0 for lot in body["lots"])
    first = body["lots"][0]
    assert datetime.fromisoformat(first["effectiveAt"]) == lots[2].effective_at
    ledger_ok()


def test_entitlements_say_null_when_nothing_expires_and_leave_out_held_credits(
    client, user, session, ledger_ok
):
    from credits_app.services.holds import reserve

    reserve(
        session=session, user_id=user.id, amount=30, feature="example-ai", idempotency_key=key()
    )

    body = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()

    assert body["nextExpiry"] is None
    assert [(lot["amount"], lot["remaining"]) for lot in body["lots"]] == [(100, 70)]
    assert body["lots"][0]["expiresAt"] is None
    assert (body["balance"], body["available"]) == (100, 70)
    ledger_ok()
