import httpx
import pytest
import stripe

from credits_app.stripe_sim.control import SimControlError

PACK_EVENTS = ["payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"]


def _pack_session(client, customer_id, **extra):
    params = {
        "mode": "payment",
        "line_items": [{"price": "price_sim_starter", "quantity": 1}],
        "customer": customer_id,
        "client_reference_id": "user-42",
        "metadata": {"user_id": "42", "price_id": "price_sim_starter"},
        "payment_intent_data": {"metadata": {"user_id": "42"}},
        "success_url": "https://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.test/billing",
        **extra,
    }
    return client.v1.checkout.sessions.create(params)


def _customer(client):
    return client.v1.customers.create({"email": "buyer@example.com"})


def test_pack_checkout_emits_signed_events_in_order(client, sim, receiver, stripe_sim):
    customer = _customer(client)
    session = _pack_session(client, customer.id)

    paid = sim.pay(session.id, "4242 4242 4242 4242")
    sim.wait_for_deliveries()
    events = receiver.events()

    assert session.url == f"{stripe_sim.url}/checkout/{session.id}"
    assert (session.status, session.payment_status, session.amount_total) == ("open", "unpaid", 500)
    assert [e.type for e in events] == ["customer.created", *PACK_EVENTS]
    completed = events[-1].data.object
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    assert completed.client_reference_id == "user-42"
    assert completed.metadata.to_dict() == {"user_id": "42", "price_id": "price_sim_starter"}
    assert completed.payment_intent == paid["payment_intent"]
    charge = events[2].data.object
    assert (charge.amount, charge.amount_refunded, charge.refunded) == (500, 0, False)
    assert charge.metadata.to_dict() == {"user_id": "42"}
    assert charge.customer == customer.id
    delivery = receiver.deliveries[0]
    assert delivery.content_type == "application/json; charset=utf-8"
    assert delivery.user_agent == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert all(e.api_version == "2026-10-28.endive" and e.livemode is False for e in events)


def test_session_retrieve_expands_payment_intent_and_line_items(client, sim):
    session = _pack_session(client, _customer(client).id)
    sim.pay(session.id)

    fetched = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent", "line_items"]}
    )
    items = client.v1.checkout.sessions.line_items.list(session.id)

    assert fetched.payment_intent.status == "succeeded"
    assert fetched.payment_intent.metadata.to_dict() == {"user_id": "42"}
    assert fetched.line_items.data[0].price.id == "price_sim_starter"
    assert items.data[0].quantity == 1


def test_declined_card_keeps_session_open(client, sim, receiver):
    session = _pack_session(client, _customer(client).id)

    with pytest.raises(SimControlError) as caught:
        sim.pay(session.id, "4000 0000 0000 0002")
    sim.pay(session.id, "4242424242424242")
    sim.wait_for_deliveries()

    error = caught.value.body["error"]
    assert caught.value.status == 402
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    assert error["message"] == "Your card was declined."
    assert receiver.types() == [
        "customer.created",
        "payment_intent.payment_failed",
        "charge.failed",
        *PACK_EVENTS,
    ]


@pytest.mark.parametrize(
    ("outcome", "last_event", "payment_status"),
    [
        ("succeeded", "checkout.session.async_payment_succeeded", "paid"),
        ("failed", "checkout.session.async_payment_failed", "unpaid"),
    ],
)
def test_delayed_payment_settles_later(client, sim, receiver, outcome, last_event, payment_status):
    session = _pack_session(client, _customer(client).id)

    pending = sim.pay(session.id, delayed=True)
    settled = sim.settle(session.id, outcome)
    sim.wait_for_deliveries()
    events = receiver.events()

    assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
    assert events[1].type == "checkout.session.completed"
    assert events[1].data.object.payment_status == "unpaid"
    assert events[-1].type == last_event
    assert settled["payment_status"] == payment_status


def test_hosted_page_form_pays_and_redirects(client, stripe_sim, receiver, sim):
    session = _pack_session(client, _customer(client).id)
    page_url = f"{stripe_sim.url}/checkout/{session.id}"

    page = httpx.get(page_url)
    # The form posts to the page's own URL, as a browser on the page does (same origin).
    same_origin = {"Origin": stripe_sim.url}
    declined = httpx.post(page_url, data={"card": "4000 0000 0000 0002"}, headers=same_origin)
    accepted = httpx.post(page_url, data={"card": "4242 4242 4242 4242"}, headers=same_origin)
    sim.wait_for_deliveries()

    assert page.status_code == 200
    assert f'<form class="card" method="post" action="/checkout/{session.id}">' in page.text
    for text in (
        "Starter Pack",
        "$5.00",
        "100 credits",
        "4242 4242 4242 4242",
        "https://app.test/billing",
    ):
        assert text in page.text
    assert 'name="viewport"' in page.text and "prefers-color-scheme:dark" in page.text
    assert "Your card was declined." in declined.text
    assert declined.status_code == 402 and 'value="4000 0000 0000 0002"' in declined.text
    assert accepted.status_code == 303
    assert accepted.headers["location"] == (
        f"https://app.test/billing/success?session_id={session.id}"
    )
    assert receiver.types()[-1] == "checkout.session.completed"
    assert "Payment complete" in httpx.get(page_url).text


def test_checkout_validation_mirrors_stripe(client):
    with pytest.raises(stripe.InvalidRequestError) as recurring_in_payment:
        client.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": [{"price": "price_sim_monthly", "quantity": 1}]}
        )
    with pytest.raises(stripe.InvalidRequestError) as one_time_in_subscription:
        client.v1.checkout.sessions.create(
            {"mode": "subscription", "line_items": [{"price": "price_sim_pro", "quantity": 1}]}
        )
    with pytest.raises(stripe.InvalidRequestError) as unknown_price:
        client.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": [{"price": "price_nope", "quantity": 1}]}
        )
    with pytest.raises(stripe.InvalidRequestError) as unknown_customer:
        _pack_session(client, "cus_nope")

    assert "recurring price" in recurring_in_payment.value.user_message
    assert one_time_in_subscription.value.param == "line_items[0][price]"
    assert unknown_price.value.code == "resource_missing"
    assert unknown_price.value.http_status == 400
    assert unknown_customer.value.param == "customer"


def test_expired_session_cannot_be_paid(client, sim, receiver):
    session = _pack_session(client, _customer(client).id)

    expired = client.v1.checkout.sessions.expire(session.id)
    with pytest.raises(SimControlError):
        sim.pay(session.id)
    sim.wait_for_deliveries()

    assert expired.status == "expired"
    assert receiver.types() == ["customer.created", "checkout.session.expired"]


def test_sessions_are_listed_by_customer_and_status(client, sim):
    mine, other = _customer(client), _customer(client)
    paid = _pack_session(client, mine.id)
    sim.pay(paid.id)
    expired = _pack_session(client, mine.id)
    client.v1.checkout.sessions.expire(expired.id)
    still_open = _pack_session(client, mine.id)
    _pack_session(client, other.id)

    by_customer = client.v1.checkout.sessions.list({"customer": mine.id})
    open_ones = client.v1.checkout.sessions.list({"customer": mine.id, "status": "open"})
    expired_ones = client.v1.checkout.sessions.list({"status": "expired"})

    assert [s.id for s in by_customer.data] == [still_open.id, expired.id, paid.id]
    assert [s.id for s in open_ones.data] == [still_open.id]
    assert [s.id for s in expired_ones.data] == [expired.id]


def test_a_finished_session_cannot_be_paid_by_the_helper_or_the_page(client, sim, stripe_sim):
    completed = _pack_session(client, _customer(client).id)
    sim.pay(completed.id)
    expired = _pack_session(client, _customer(client).id)
    client.v1.checkout.sessions.expire(expired.id)

    answers = {}
    for session in (completed, expired):
        with pytest.raises(SimControlError) as caught:
            sim.pay(session.id)
        answers[session.id] = caught.value
    page = httpx.post(
        f"{stripe_sim.url}/checkout/{expired.id}", data={"card": "4242 4242 4242 4242"}
    )

    assert answers[completed.id].status == 400
    assert answers[completed.id].body["error"]["message"] == (
        "This Checkout Session is already complete and cannot be paid."
    )
    assert answers[expired.id].body["error"]["message"] == (
        "This Checkout Session is expired and cannot be paid."
    )
    assert page.status_code == 400
    assert "This checkout session has expired and cannot be paid." in page.text
    assert client.v1.checkout.sessions.retrieve(expired.id).status == "expired"
