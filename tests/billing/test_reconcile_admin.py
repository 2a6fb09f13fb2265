"""/admin/reconcile's services: run, repair one drift, decide about the rest, admins only.

The page's state calls exactly these (`services/billing/reconcile/admin.py`); the browser
test (tests/e2e/test_admin_reconcile.py) clicks through the same flow. Drift is made the
ways tests/billing/test_reconcile.py makes it: deliveries dropped at the simulator, events
that lie about the money. Everything runs against the real simulator through the real SDK,
on SQLite and PostgreSQL, and ends with the ledger's invariant check.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from credits_app.cli import main as cli_main
from credits_app.models import LedgerEntry, ReconcileDecision, utcnow
from credits_app.observability import metrics
from credits_app.services.billing.reconcile import reconcile
from credits_app.services.billing.reconcile.admin import (
    decide_as_admin,
    repair_all_as_admin,
    repair_as_admin,
    run_as_admin,
)
from credits_app.services.billing.reconcile.decisions import choices, recent_decisions
from credits_app.services.billing.reconcile.schedule import scheduled_check
from credits_app.services.errors import Forbidden, InvalidRequest
from credits_app.services.invariants import check_ledger
from credits_app.state.admin_reconcile import drift_row
from tests.billing.test_reconcile import _forged, _pause, _resume
from tests.support.factories import make_user

BOTH = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def api_version() -> str:
    """Today's API version (the handlers' own tests cover both)."""
    from tests.billing.conftest import API_VERSIONS

    return API_VERSIONS["current"]


def _admin(world) -> int:
    with world.session() as session:
        return make_user(session, is_admin=True).id


def _since():
    return utcnow() - timedelta(days=1)


def _decisions(world) -> int:
    with world.session() as session:
        return session.execute(select(func.count()).select_from(ReconcileDecision)).scalar_one()


def _assert_ledger_ok(world) -> None:
    with world.session() as session:
        assert check_ledger(session=session) == []


def _forged_unpaid_session(world, user_id: int) -> str:
    """Credits for a Checkout session nobody paid: an event that lies, correctly signed."""
    session_id = world.checkout(user_id, "price_sim_starter").json()["id"]
    unpaid = world.stripe.v1.checkout.sessions.retrieve(session_id).to_dict()
    claimed = {**unpaid, "status": "complete", "payment_status": "paid", "payment_intent": None}
    assert world.post_event(_forged("checkout.session.completed", claimed)).status_code == 200
    assert world.balance(user_id).balance == 100
    return session_id


def _doubled_purchase(world, user_id: int) -> str:
    """A $5.00 pack recorded (and credited) as $10.00 by an event whose amounts were altered."""
    _pause(world)
    session_id = world.buy(user_id, "price_sim_starter")
    _resume(world)
    [event] = world.events("checkout.session.completed")
    doubled = {**event["data"]["object"], "amount_subtotal": 1000, "amount_total": 1000}
    assert world.post_event(_forged(event["type"], doubled)).status_code == 200
    assert world.balance(user_id).balance == 200
    return session_id


@BOTH
def test_a_run_finds_the_dropped_delivery_and_its_repair_is_resolved_on_recheck(world):
    admin, user_id = _admin(world), world.new_user()
    world.buy(user_id, "price_sim_pro")  # delivered: no drift
    _pause(world)
    session_id = world.buy(user_id, "price_sim_starter")  # $5.00, 100 credits, never delivered
    _resume(world)
    since = _since()

    report = run_as_admin(admin_user_id=admin, since=since)
    [drift] = report.drift
    assert (drift.kind.value, drift.object, drift.user_id) == (
        "paid_not_granted",
        session_id,
        user_id,
    )
    assert report.checked["checkoutSessions"] == 2
    assert [x.key for x in report.open] == [drift.key]
    assert choices(drift) == ()  # repairable: it is repaired, not decided
    with pytest.raises(InvalidRequest) as refused:
        decide_as_admin(admin_user_id=admin, drift=drift, decision="accept", reason="later")
    assert refused.value.reason == "this drift can be repaired: repair it instead"
    assert _decisions(world) == 0
    # What the page's table shows for it.
    row = drift_row(drift, "open", None, "test")
    assert row == {
        "key": f"paid_not_granted|{session_id}",
        "kind": "paid_not_granted",
        "explanation": "Stripe shows it paid, but it never became credits (or its grant is "
        "missing from the ledger).",
        "object": session_id,
        "dashboard": f"https://dashboard.stripe.com/test/search?query={session_id}",
        "user": f"user {user_id}",
        "user_url": f"/admin/users/{user_id}",
        "detail": "paid $5.00 at Checkout for 100 credits, never credited",
        "repairable": "yes",
        "status": "open",
        "decided": "",
        "can_decide": "",
        "can_claw_back": "",
        "excess": "",
    }

    done = repair_as_admin(admin_user_id=admin, drift=drift, since=since)
    event = world.events("checkout.session.completed")[0]  # newest first: the dropped one
    assert (done.result.outcome, done.result.event_id) == ("applied", event["id"])
    assert (done.resolved, done.still) == (True, [])
    assert world.balance(user_id).balance == 600

    # Repairing the same drift again (a second click, another tab) grants nothing more.
    again = repair_as_admin(admin_user_id=admin, drift=drift, since=since)
    assert (again.result.outcome, again.result.detail) == (
        "applied",
        f"{session_id} was credited before",
    )
    assert again.resolved is True
    assert world.balance(user_id).balance == 600
    rerun = run_as_admin(admin_user_id=admin, since=since)
    assert (rerun.drift, rerun.ok) == ([], True)
    grants = [(e.kind, e.source, e.amount) for e in world.entries(user_id)]
    assert grants == [("grant", "stripe_checkout", 500), ("grant", "stripe_checkout", 100)]
    _assert_ledger_ok(world)


@BOTH
def test_repair_all_repairs_what_it_can_and_leaves_the_rest_open(world):
    admin, user_id = _admin(world), world.new_user()
    _pause(world)
    dropped = world.buy(user_id, "price_sim_starter")
    _resume(world)
    forged = _forged_unpaid_session(world, user_id)

    report = repair_all_as_admin(admin_user_id=admin, since=_since())
    assert sorted((x.kind.value, x.object) for x in report.drift) == sorted(
        [("paid_not_granted", dropped), ("granted_without_payment", forged)]
    )
    assert {k: r.outcome for k, r in report.repairs.items()} == {
        ("paid_not_granted", dropped): "applied"
    }
    assert [(x.kind.value, x.object) for x in report.open] == [("granted_without_payment", forged)]
    assert world.balance(user_id).balance == 200
    _assert_ledger_ok(world)


@BOTH
def test_accepting_needs_a_reason_is_recorded_once_and_closes_the_drift_everywhere(world, capsys):
    admin, user_id = _admin(world), world.new_user()
    forged = _forged_unpaid_session(world, user_id)
    [drift] = run_as_admin(admin_user_id=admin, since=_since()).drift
    assert (drift.kind.value, drift.object, drift.excess) == (
        "granted_without_payment",
        forged,
        100,
    )
    assert choices(drift) == ("accept", "clawback")
    assert cli_main(["reconcile", "--json"]) == 1
    capsys.readouterr()

    for blank in ("", "   ", None):
        with pytest.raises(InvalidRequest) as refused:
            decide_as_admin(admin_user_id=admin, drift=drift, decision="accept", reason=blank)
        assert (refused.value.field, refused.value.reason) == (
            "reason",
            "must be a non-empty string",
        )
    with pytest.raises(InvalidRequest) as refused:
        decide_as_admin(admin_user_id=admin, drift=drift, decision="forgive", reason="x")
    assert refused.value.reason == "must be accept or clawback for this drift"
    assert _decisions(world) == 0

    first = decide_as_admin(
        admin_user_id=admin,
        drift=drift,
        decision="accept",
        reason="Goodwill credits given by support outside the app",
    )
    twice = decide_as_admin(
        admin_user_id=admin, drift=drift, decision="accept", reason="another reason"
    )
    assert twice == first
    assert (first.decision, first.admin_id, first.credits, first.entry_id) == (
        "accept",
        admin,
        None,
        None,
    )
    assert first.reason == "Goodwill credits given by support outside the app"
    assert _decisions(world) == 1
    assert world.balance(user_id).balance == 100  # accepting changes no credits

    report = reconcile(since=_since())
    assert [x.key for x in report.drift] == [drift.key]
    assert (report.open, report.ok) == ([], True)
    row = drift_row(drift, "open", report.decisions[drift.key], "test")
    assert (row["status"], row["can_decide"]) == ("decided", "")
    assert row["decided"].startswith(f"accepted by {first.admin_email} at ")

    # The CLI exits 0 with only accepted drift, and still shows it with its decision.
    assert cli_main(["reconcile", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ok"] is True
    [item] = shown["drift"]
    assert item["decision"] == {
        "decision": "accept",
        "reason": "Goodwill credits given by support outside the app",
        "admin": {"id": admin, "email": first.admin_email},
        "at": first.at.isoformat(),
    }
    assert cli_main(["reconcile"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[1:] == [
        f"granted_without_payment  {forged}  (user {user_id}, accept by {first.admin_email})",
        f"{'':24} granted 100 credits, but at Stripe it is open, not paid",
        f"{'':24} decided {first.at.isoformat(timespec='seconds')}: Goodwill credits given "
        "by support outside the app",
    ]
    # The schedule's gauge no longer counts it.
    scheduled_check(confirm_after=0)
    assert 'credits_reconcile_drift{kind="granted_without_payment"} 0.0' in (
        metrics.scrape().decode()
    )
    _assert_ledger_ok(world)


@BOTH
def test_a_clawback_takes_exactly_the_excess_back_once(world):
    admin, user_id = _admin(world), world.new_user()
    session_id = _doubled_purchase(world, user_id)
    [drift] = run_as_admin(admin_user_id=admin, since=_since()).drift
    assert (drift.kind.value, drift.object, drift.excess) == ("amount_mismatch", session_id, 100)

    decided = decide_as_admin(
        admin_user_id=admin, drift=drift, decision="clawback", reason="Altered event"
    )
    again = decide_as_admin(admin_user_id=admin, drift=drift, decision="accept", reason="no")
    assert again == decided
    assert (decided.decision, decided.credits) == ("clawback", 100)
    assert world.balance(user_id).balance == 100
    moves = [(e.kind, e.source, e.source_ref, e.amount, e.reason) for e in world.entries(user_id)]
    assert moves[-1] == (
        "clawback",
        "reconcile",
        session_id,
        100,
        "Correction after reconciliation: Altered event",
    )
    assert [e.id for e in world.entries(user_id)][-1] == decided.entry_id
    assert len([m for m in moves if m[0] == "clawback"]) == 1
    assert reconcile(since=_since()).ok is True
    _assert_ledger_ok(world)


@BOTH
def test_two_admins_deciding_at_once_make_one_decision_and_one_clawback(world):
    first, second, user_id = _admin(world), _admin(world), world.new_user()
    _doubled_purchase(world, user_id)
    [drift] = run_as_admin(admin_user_id=first, since=_since()).drift
    start = threading.Barrier(2)

    def decide(admin: int, reason: str):
        start.wait()
        return decide_as_admin(admin_user_id=admin, drift=drift, decision="clawback", reason=reason)

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(decide, first, "one"), pool.submit(decide, second, "two")]
        answers = [f.result(timeout=60) for f in futures]
    assert answers[0] == answers[1]
    assert answers[0].reason in ("one", "two")  # whichever committed first; the other sees it
    assert _decisions(world) == 1
    assert world.balance(user_id).balance == 100
    clawbacks = [e for e in world.entries(user_id) if e.kind == "clawback"]
    assert [(e.source, e.amount) for e in clawbacks] == [("reconcile", 100)]
    _assert_ledger_ok(world)


@BOTH
def test_a_decision_outlives_its_drift_and_nothing_is_open(world):
    admin, user_id = _admin(world), world.new_user()
    forged = _forged_unpaid_session(world, user_id)
    [drift] = run_as_admin(admin_user_id=admin, since=_since()).drift
    decide_as_admin(
        admin_user_id=admin, drift=drift, decision="accept", reason="Customer pays later"
    )
    # ... and the customer pays the very session: the drift is gone, the webhook no-ops.
    world.sim.pay(forged, "4242424242424242")
    world.sim.wait_for_deliveries()
    assert world.balance(user_id).balance == 100

    report = reconcile(since=_since())
    assert (report.drift, report.decisions, report.ok) == ([], {}, True)
    with world.session() as session:
        [kept] = recent_decisions(session)
    assert (kept.kind, kept.object, kept.reason) == (
        "granted_without_payment",
        forged,
        "Customer pays later",
    )
    assert kept.detail == "granted 100 credits, but at Stripe it is open, not paid"
    _assert_ledger_ok(world)


@BOTH
def test_a_clawback_from_a_run_whose_drift_went_away_is_refused(world):
    admin, user_id = _admin(world), world.new_user()
    forged = _forged_unpaid_session(world, user_id)
    [drift] = run_as_admin(admin_user_id=admin, since=_since()).drift
    world.sim.pay(forged, "4242424242424242")  # paid after all, while the page was open
    world.sim.wait_for_deliveries()

    with pytest.raises(InvalidRequest) as refused:
        decide_as_admin(admin_user_id=admin, drift=drift, decision="clawback", reason="Never paid")
    assert refused.value.reason == f"{forged} no longer drifts as it did: run again first"
    assert _decisions(world) == 0
    assert world.balance(user_id).balance == 100
    _assert_ledger_ok(world)


@BOTH
def test_non_admins_are_refused_and_nothing_changes(world):
    user_id = world.new_user()
    _pause(world)
    session_id = world.buy(user_id, "price_sim_starter")
    _resume(world)
    since = _since()
    admin = _admin(world)
    [drift] = run_as_admin(admin_user_id=admin, since=since).drift
    requests = len(world.sim.requests())

    for actor in (user_id, 0, 10**6):
        with pytest.raises(Forbidden, match="only admins can reconcile"):
            run_as_admin(admin_user_id=actor, since=since)
        with pytest.raises(Forbidden, match="only admins can reconcile"):
            repair_as_admin(admin_user_id=actor, drift=drift, since=since)
        with pytest.raises(Forbidden, match="only admins can reconcile"):
            repair_all_as_admin(admin_user_id=actor, since=since)
        with pytest.raises(Forbidden, match="only admins can reconcile"):
            decide_as_admin(admin_user_id=actor, drift=drift, decision="accept", reason="mine")
    # Refused before talking to Stripe or writing anything.
    assert len(world.sim.requests()) == requests
    assert world.balance(user_id).balance == 0
    assert _decisions(world) == 0
    with world.session() as session:
        count = (
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.source_ref == session_id)
        )
        assert session.execute(count).scalar_one() == 0
    _assert_ledger_ok(world)
