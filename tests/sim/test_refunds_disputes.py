import pytest
import stripe

from credits_app.stripe_sim.control import SimControlError

PENDING_REFUND_CARD = "4000000000007726"
FAILING_REFUND_CARD = "4000000000005126"


def _paid_pack(client, sim, price="price_sim_pro", card="4242424242424242"):
    customer = client.v1.customers.create({"email": "refund@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": price, "quantity": 1}],
            "customer": customer.id,
            "payment_intent_data": {"metadata": {"user_id": "42"}},
        }
    )
    paid = sim.pay(session.id, card)
    return client.v1.payment_intents.retrieve(paid["payment_intent"])


def _fresh(sim, receiver):
    sim.wait_for_deliveries()
    receiver.clear()


def test_partial_refunds_accumulate_until_fully_refunded(client, sim, receiver):
    intent = _paid_pack(client, sim)
    _fresh(sim, receiver)

    first = client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
    rest = client.v1.refunds.create({"charge": intent.latest_charge})
    sim.wait_for_deliveries()
    events = receiver.events()

    assert (first.amount, rest.amount) == (500, 1500)
    assert (first.status, rest.status) == ("succeeded", "succeeded")
    assert first.charge == intent.latest_charge and first.payment_intent == intent.id
    assert [e.type for e in events] == [
        "charge.refunded",
        "refund.created",
        "charge.refunded",
        "refund.created",
    ]
    partial, full = events[0].data.object, events[2].data.object
    assert (partial.amount_refunded, partial.refunded) == (500, False)
    assert (full.amount_refunded, full.refunded) == (2000, True)
    assert full.metadata.to_dict() == {"user_id": "42"}
    assert events[2].data.previous_attributes.amount_refunded == 500
    listed = client.v1.refunds.list({"charge": intent.latest_charge})
    assert {r.id for r in listed.data} == {first.id, rest.id}


def test_over_refund_is_refused(client, sim):
    intent = _paid_pack(client, sim)
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 1500})

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 501})
    client.v1.refunds.create({"payment_intent": intent.id})
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create({"payment_intent": intent.id})

    assert too_much.value.http_status == 400
    assert too_much.value.param == "amount"
    assert already.value.code == "charge_already_refunded"
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 2000


def test_a_refund_of_a_pending_refund_card_stays_pending_until_it_succeeds(client, sim, receiver):
    intent = _paid_pack(client, sim, card=PENDING_REFUND_CARD)
    _fresh(sim, receiver)

    created = client.v1.refunds.create({"payment_intent": intent.id})
    charge = client.v1.charges.retrieve(intent.latest_charge)
    succeeded = sim.succeed_refund(created.id)
    sim.wait_for_deliveries()

    assert (created.status, created.pending_reason, created.amount) == (
        "pending",
        "processing",
        2000,
    )
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    assert succeeded["status"] == "succeeded"
    assert receiver.types() == ["charge.refunded", "refund.created", "refund.updated"]
    updated = receiver.events()[-1]
    assert updated.data.previous_attributes.to_dict() == {
        "status": "pending",
        "pending_reason": "processing",
    }


def test_a_failed_refund_gives_the_amount_back_without_another_charge_refunded(
    client, sim, receiver
):
    intent = _paid_pack(client, sim, card=FAILING_REFUND_CARD)
    _fresh(sim, receiver)

    created = client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
    failed = sim.fail_refund(created.id)
    sim.wait_for_deliveries()
    charge = client.v1.charges.retrieve(intent.latest_charge)

    assert created.status == "succeeded"
    assert (failed["status"], failed["failure_reason"]) == ("failed", "expired_or_canceled_card")
    assert failed["failure_balance_transaction"].startswith("txn_")
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    assert receiver.types() == [
        "charge.refunded",
        "refund.created",
        "refund.updated",
        "refund.failed",
    ]
    previous = receiver.events()[2].data.previous_attributes.to_dict()
    assert previous == {
        "status": "succeeded",
        "failure_reason": None,
        "failure_balance_transaction": None,
    }
    again = client.v1.refunds.create({"payment_intent": intent.id})
    assert again.amount == 2000


def test_the_test_clock_lets_refunds_change_as_their_cards_say(client, sim):
    pending = client.v1.refunds.create(
        {"payment_intent": _paid_pack(client, sim, card=PENDING_REFUND_CARD).id}
    )
    failing = client.v1.refunds.create(
        {"payment_intent": _paid_pack(client, sim, card=FAILING_REFUND_CARD).id}
    )
    plain = client.v1.refunds.create({"payment_intent": _paid_pack(client, sim).id})

    summary = sim.advance(60)

    assert sorted(summary["settled_refunds"]) == sorted([pending.id, failing.id])
    statuses = [client.v1.refunds.retrieve(r.id).status for r in (pending, failing, plain)]
    assert statuses == ["succeeded", "failed", "succeeded"]


def test_a_refund_can_only_end_once(client, sim):
    refund = client.v1.refunds.create({"payment_intent": _paid_pack(client, sim).id})

    with pytest.raises(SimControlError) as succeed_again:
        sim.succeed_refund(refund.id)
    sim.fail_refund(refund.id)
    with pytest.raises(SimControlError) as fail_again:
        sim.fail_refund(refund.id)

    assert succeed_again.value.status == fail_again.value.status == 400
    assert fail_again.value.body["error"]["message"] == (
        f"Refund {refund.id} is failed and cannot become failed."
    )


def test_a_chargeback_withdraws_the_funds_and_winning_reinstates_them(client, sim, receiver):
    intent = _paid_pack(client, sim)
    _fresh(sim, receiver)

    opened = sim.dispute(intent.latest_charge, amount=1200)
    won = sim.close_dispute(opened["id"], "won")
    sim.wait_for_deliveries()

    assert opened["status"] == "needs_response"
    assert opened["payment_method_details"]["card"]["case_type"] == "chargeback"
    assert receiver.types() == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    ]
    withdrawn = receiver.events()[1].data.object.balance_transactions
    assert [(t.amount, t.fee, t.net) for t in withdrawn] == [(-1200, 1500, -2700)]
    assert [t["amount"] for t in won["balance_transactions"]] == [-1200, 1200]
    assert won["status"] == "won"
    assert receiver.events()[-1].data.previous_attributes.status == "needs_response"


def test_a_lost_chargeback_closes_lost_and_the_charge_cannot_be_refunded(client, sim, receiver):
    intent = _paid_pack(client, sim)
    _fresh(sim, receiver)

    opened = sim.dispute(intent.latest_charge, amount=1200)
    closed = sim.close_dispute(opened["id"], "lost")
    sim.wait_for_deliveries()
    events = receiver.events()

    assert opened["id"].startswith("dp_")
    assert [e.type for e in events] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    created = events[0].data.object
    assert (created.charge, created.payment_intent) == (intent.latest_charge, intent.id)
    assert (created.amount, created.status) == (1200, "needs_response")
    assert closed["status"] == "lost"
    assert [t["amount"] for t in closed["balance_transactions"]] == [-1200]
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id})


def test_an_inquiry_moves_no_money_until_the_issuer_escalates_it(client, sim, receiver):
    intent = _paid_pack(client, sim)
    _fresh(sim, receiver)

    inquiry = sim.dispute(intent.id, inquiry=True)
    escalated = sim.escalate(inquiry["id"])
    sim.wait_for_deliveries()
    events = receiver.events()

    assert (inquiry["status"], inquiry["balance_transactions"]) == ("warning_needs_response", [])
    assert inquiry["payment_method_details"]["card"]["case_type"] == "inquiry"
    assert escalated["id"] == inquiry["id"]
    assert escalated["status"] == "needs_response"
    assert escalated["payment_method_details"]["card"]["case_type"] == "chargeback"
    assert [e.type for e in events] == [
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.funds_withdrawn",
    ]
    assert events[1].data.previous_attributes.status == "warning_needs_response"
    assert [t["amount"] for t in escalated["balance_transactions"]] == [-2000]
    with pytest.raises(SimControlError) as twice:
        sim.escalate(inquiry["id"])
    assert twice.value.status == 400


def test_a_charge_under_inquiry_can_still_be_refunded(client, sim):
    intent = _paid_pack(client, sim)
    sim.dispute(intent.id, inquiry=True)

    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 700})

    assert (refund.status, refund.amount) == ("succeeded", 700)


def test_closing_an_inquiry_ends_it_as_warning_closed(client, sim, receiver):
    intent = _paid_pack(client, sim)
    _fresh(sim, receiver)

    inquiry = sim.dispute(intent.id, inquiry=True)
    closed = sim.close_dispute(inquiry["id"], "lost")
    sim.wait_for_deliveries()

    assert (closed["status"], closed["balance_transactions"]) == ("warning_closed", [])
    assert receiver.types() == ["charge.dispute.created", "charge.dispute.closed"]
    with pytest.raises(SimControlError) as again:
        sim.close_dispute(inquiry["id"], "won")
    assert again.value.body["error"]["message"].endswith("is already closed (warning_closed).")


def test_a_prevented_dispute_is_settled_by_a_refund_of_its_own(client, sim, receiver):
    intent = _paid_pack(client, sim)
    _fresh(sim, receiver)

    prevented = sim.dispute(intent.latest_charge, prevented=True)
    sim.wait_for_deliveries()
    events = receiver.events()
    [refund] = client.v1.refunds.list({"charge": intent.latest_charge}).data

    assert (prevented["status"], prevented["balance_transactions"]) == ("prevented", [])
    assert prevented["payment_method_details"]["card"]["case_type"] == "resolution"
    assert [e.type for e in events] == [
        "charge.dispute.created",
        "charge.refunded",
        "refund.created",
    ]
    assert (refund.amount, refund.status) == (2000, "succeeded")
    assert events[1].data.object.refunded is True
    with pytest.raises(SimControlError) as closing:
        sim.close_dispute(prevented["id"], "won")
    assert closing.value.status == 400
