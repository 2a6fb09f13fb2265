import time
import uuid

import pytest
import stripe


def test_failed_delivery_is_retried_until_accepted(client, sim, receiver):
    receiver.respond_with(500)

    customer = client.v1.customers.create({"email": "retry@example.com"})
    sim.wait_for_deliveries()
    [delivery] = sim.deliveries()

    assert [a["status"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["delivered"] is True and delivery["pending"] is False
    assert [e.data.object.id for e in receiver.events()] == [customer.id, customer.id]


def test_failing_event_does_not_hold_back_later_ones(client, sim, receiver):
    sim.configure(retry_delays=[0.5])
    receiver.respond_with(500)

    first = client.v1.customers.create({"email": "first@example.com"})
    second = client.v1.customers.create({"email": "second@example.com"})
    sim.wait_for_deliveries()

    order = [e.data.object.id for e in receiver.events()]
    assert order == [first.id, second.id, first.id]


def test_delivery_gives_up_after_the_configured_retries(client, sim, receiver):
    receiver.respond_with(500, 500, 500, 500)

    client.v1.customers.create({"email": "never@example.com"})
    sim.wait_for_deliveries()
    [delivery] = sim.deliveries()

    assert delivery["attempt_count"] == 4
    assert (delivery["delivered"], delivery["failed"]) == (False, True)


def test_unreachable_endpoint_is_recorded_as_connection_error(client, sim):
    sim.configure(forward_to="http://127.0.0.1:9/unreachable", retry_delays=[])

    client.v1.customers.create({"email": "nowhere@example.com"})
    sim.wait_for_deliveries()
    [delivery] = sim.deliveries()

    assert delivery["failed"] is True
    assert delivery["attempts"][0]["status"] is None
    assert delivery["attempts"][0]["error"]


def test_resend_delivers_the_same_event_again(client, sim, receiver):
    client.v1.customers.create({"email": "resend@example.com"})
    sim.wait_for_deliveries()
    [event] = receiver.events()

    sim.resend(event.id)
    sim.wait_for_deliveries()

    assert [e.id for e in receiver.events()] == [event.id, event.id]
    assert receiver.deliveries[0].body == receiver.deliveries[1].body


def test_signature_is_rejected_with_another_secret(client, sim, receiver):
    client.v1.customers.create({"email": "sig@example.com"})
    sim.wait_for_deliveries()
    delivery = receiver.deliveries[0]

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_other")
    timestamp = int(delivery.signature.split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 60


def test_no_deliveries_without_forward_to(client, sim, receiver):
    sim.configure(forward_to="")

    customer = client.v1.customers.create({"email": "quiet@example.com"})
    events = client.v1.events.list({"type": "customer.*"})

    assert sim.deliveries() == [] and receiver.deliveries == []
    assert [e.data.object.id for e in events.data] == [customer.id]
    assert events.data[0].pending_webhooks == 0


def test_events_api_filters_and_pages(client, sim):
    for index in range(3):
        client.v1.customers.create({"email": f"e{index}@example.com"})
    client.v1.products.create({"name": "Extra"})

    customers = client.v1.events.list({"type": "customer.created", "limit": 2})
    everything = list(client.v1.events.list({"limit": 1}).auto_paging_iter())
    chosen = client.v1.events.list({"types": ["product.created"]})
    fetched = client.v1.events.retrieve(everything[0].id)

    assert len(customers.data) == 2 and customers.has_more is True
    assert everything[0].type == "product.created"
    assert len(everything) == 4
    assert [e.type for e in chosen.data] == ["product.created"]
    assert fetched.request.id.startswith("req_")


def test_idempotency_key_replays_the_first_response(client):
    key = str(uuid.uuid4())
    params = {"email": "once@example.com"}

    first = client.v1.customers.create(params, {"idempotency_key": key})
    replay = client.v1.customers.create(params, {"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"email": "other@example.com"}, {"idempotency_key": key})

    assert replay.id == first.id
    assert replay.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.customers.list().data) == 1
    event = client.v1.events.list({"type": "customer.created"}).data[0]
    assert event.request.idempotency_key == key
