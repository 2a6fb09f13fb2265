import pytest
import stripe


def _paid_pack(client, sim, price="price_sim_pro"):
    customer = client.v1.customers.create({"email": "refund@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": price, "quantity": 1}],
            "customer": customer.id,
            "payment_intent_data": {"metadata": {"user_id": "42"}},
        }
    )
    paid = sim.pay(session.id)
    return client.v1.payment_intents.retrieve(paid["payment_intent"])


def test_partial_refunds_accumulate_until_fully_refunded(client, sim, receiver):
    intent = _paid_pack(client, sim)
    sim.wait_for_deliveries()
    receiver.clear()

    first = client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})
    rest = client.v1.refunds.create({"charge": intent.latest_charge})
    sim.wait_for_deliveries()
    events = receiver.events()

    assert (first.amount, rest.amount) == (500, 1500)
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


def test_dispute_is_created_and_closed(client, sim, receiver):
    intent = _paid_pack(client, sim)
    sim.wait_for_deliveries()
    receiver.clear()

    opened = sim.dispute(intent.latest_charge, amount=1200)
    closed = sim.close_dispute(opened["id"], "lost")
    sim.wait_for_deliveries()
    events = receiver.events()

    assert opened["id"].startswith("dp_")
    assert [e.type for e in events] == ["charge.dispute.created", "charge.dispute.closed"]
    created = events[0].data.object
    assert (created.charge, created.payment_intent) == (intent.latest_charge, intent.id)
    assert (created.amount, created.status) == (1200, "needs_response")
    assert closed["status"] == "lost"
    assert events[1].data.previous_attributes.status == "needs_response"
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id})
