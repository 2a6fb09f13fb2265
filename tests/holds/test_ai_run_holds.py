"""Holds of AI runs: only the run settles them; the public capture/release routes refuse them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from credits_app.models import CreditHold, LedgerEntry, utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.ai import LocalProvider, stream_example
from credits_app.services.ai.flow import step_key
from credits_app.services.holds import expire_due_holds
from tests.api.conftest import assert_error, bearer, key
from tests.support.cli import assert_check_ok
from tests.support.factories import make_user

PROMPT = "I love this product. Setup was easy and fast, but exports are slow."


def _settle(client, user_id, hold_id, how, **body):
    body.setdefault("idempotencyKey", key())
    url = f"/api/credits/holds/{hold_id}/{how}"
    return client.post(url, json=body, headers=bearer(user_id))


def _snapshot(engine, user_id, hold_id):
    with Session(engine) as session:
        balance = balance_of(session=session, user_id=user_id)
        hold = session.get(CreditHold, hold_id)
        entries = session.exec(select(LedgerEntry.id)).all()
        return balance.balance, balance.held, hold.status, hold.managed_by, len(entries)


def _run(user_id, run_key):
    return stream_example(
        user_id=user_id, prompt=PROMPT, idempotency_key=run_key, provider=LocalProvider(0)
    )


def test_the_public_api_cannot_capture_or_release_an_ai_run_hold(client, session, engine, db_url):
    user = make_user(session, credits=100)
    run = _run(user.id, "run-1")
    reserved = next(run)
    next(run)  # the run is streaming
    before = _snapshot(engine, user.id, reserved.hold_id)

    hold_id, amount = reserved.hold_id, reserved.amount
    attempts = [
        _settle(client, user.id, hold_id, "release"),
        _settle(client, user.id, hold_id, "capture", amount=1),
        # Not even with the keys the run itself settles with.
        _settle(client, user.id, hold_id, "release", idempotencyKey=step_key("run-1", "release")),
        _settle(
            client,
            user.id,
            hold_id,
            "capture",
            amount=amount,
            idempotencyKey=step_key("run-1", "capture"),
        ),
    ]

    for response in attempts:
        assert "AI run" in assert_error(response, 403, "forbidden")["message"]
    assert _snapshot(engine, user.id, reserved.hold_id) == before
    assert before[1:4] == (reserved.amount, "active", "ai-run")
    finished = list(run)[-1]
    assert finished.kind == "finished"
    assert _snapshot(engine, user.id, reserved.hold_id)[:3] == (100 - finished.cost, 0, "captured")
    assert_check_ok(db_url)


def test_another_users_ai_run_hold_is_still_not_found(client, session, db_url):
    owner, intruder = make_user(session, credits=100), make_user(session, credits=10)
    run = _run(owner.id, "run-2")
    reserved = next(run)

    response = _settle(client, intruder.id, reserved.hold_id, "release")

    assert_error(response, 404, "not_found")
    run.close()
    assert_check_ok(db_url)


def test_holds_reserved_through_the_api_are_still_settled_through_it(client, session, db_url):
    user = make_user(session, credits=100)
    body = {"amount": 30, "feature": "example-ai", "idempotencyKey": key()}
    hold = client.post("/api/credits/reserve", json=body, headers=bearer(user.id)).json()

    captured = _settle(client, user.id, hold["holdId"], "capture", amount=12)

    assert captured.status_code == 200, captured.text
    assert (captured.json()["balance"], captured.json()["available"]) == (88, 88)
    assert_check_ok(db_url)


def test_the_sweeper_still_expires_an_ai_run_hold(session, engine, db_url, app_settings):
    user = make_user(session, credits=100)
    run = _run(user.id, "run-3")
    reserved = next(run)
    with Session(engine) as other:
        past = utcnow() - timedelta(seconds=1)
        other.exec(update(CreditHold).values(expires_at=past))
        other.commit()

    with Session(engine) as sweeper:
        assert expire_due_holds(session=sweeper) == 1

    assert _snapshot(engine, user.id, reserved.hold_id)[:3] == (100, 0, "expired")
    run.close()  # nothing was delivered: nothing to charge
    assert _snapshot(engine, user.id, reserved.hold_id)[:3] == (100, 0, "expired")
    assert_check_ok(db_url)


def test_reserving_with_an_ai_runs_key_is_a_conflict_not_its_hold(client, session, db_url):
    user = make_user(session, credits=100)
    run = _run(user.id, "run-4")
    reserved = next(run)
    body = {"amount": reserved.amount, "feature": "example-ai", "idempotencyKey": "run-4"}

    response = client.post("/api/credits/reserve", json=body, headers=bearer(user.id))

    assert assert_error(response, 409, "idempotency_conflict")["fields"] == ["prompt", "managedBy"]
    run.close()
    assert_check_ok(db_url)
