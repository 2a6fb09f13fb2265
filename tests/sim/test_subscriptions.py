import httpx
import pytest
import stripe

from credits_app.stripe_sim.control import SimControlError

INVOICE_PAID = ["invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]
RENEWAL = [*INVOICE_PAID, "customer.subscription.updated"]


def _subscribe(client, sim, price="price_sim_monthly"):
    customer = client.v1.customers.create({"email": "subscriber@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "customer": customer.id,
            "metadata": {"user_id": "42"},
            "subscription_data": {"metadata": {"user_id": "42"}},
            "success_url": "https://app.test/ok",
        }
    )
    sim.pay(session.id)
    return client.v1.checkout.sessions.retrieve(session.id, {"expand": ["subscription"]})


def _period_end(subscription):
    return subscription["items"].data[0].current_period_end


def test_subscription_checkout_uses_current_api_shapes(client, sim, receiver):
    session = _subscribe(client, sim)
    sim.wait_for_deliveries()
    events = receiver.events()
    subscription = session.subscription
    invoice = client.v1.invoices.retrieve(session.invoice, {"expand": ["payments"]})
    payments = client.v1.invoice_payments.list({"invoice": invoice.id})

    assert [e.type for e in events] == [
        "customer.created",
        "customer.subscription.created",
        *INVOICE_PAID,
        "checkout.session.completed",
    ]
    assert [e.data.object.status for e in events[2:6]] == ["draft", "open", "paid", "paid"]
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", False)
    assert subscription.metadata.to_dict() == {"user_id": "42"}
    assert subscription.latest_invoice == invoice.id
    item = subscription["items"].data[0]
    assert item.price.id == "price_sim_monthly"
    assert item.current_period_start < item.current_period_end
    assert invoice.billing_reason == "subscription_create"
    assert (invoice.status, invoice.amount_paid, invoice.customer) == (
        "paid",
        1500,
        session.customer,
    )
    details = invoice.parent.subscription_details
    assert details.subscription == subscription.id
    assert details.metadata.to_dict() == {"user_id": "42"}
    line = invoice.lines.data[0]
    assert line.pricing.price_details.price == "price_sim_monthly"
    assert line.period.end == item.current_period_end
    payment = payments.data[0]
    assert payment.payment.type == "payment_intent"
    assert invoice.payments.data[0].id == payment.id
    intent = client.v1.payment_intents.retrieve(payment.payment.payment_intent)
    assert intent.status == "succeeded" and intent.amount == 1500
    completed = events[-1].data.object
    assert (completed.subscription, completed.invoice) == (subscription.id, invoice.id)


def test_test_clock_renews_each_period(client, sim, receiver):
    subscription = _subscribe(client, sim).subscription
    sim.wait_for_deliveries()
    receiver.clear()

    first = sim.advance_to(_period_end(subscription))
    renewed = client.v1.subscriptions.retrieve(subscription.id)
    second = sim.advance_to(_period_end(renewed))
    sim.wait_for_deliveries()
    invoices = client.v1.invoices.list({"subscription": subscription.id})

    assert len(first["renewed"]) == 1 and len(second["renewed"]) == 1
    assert receiver.types() == RENEWAL + RENEWAL
    assert [i.billing_reason for i in invoices.data] == [
        "subscription_cycle",
        "subscription_cycle",
        "subscription_create",
    ]
    assert all(i.status == "paid" and i.amount_paid == 1500 for i in invoices.data)
    latest = client.v1.subscriptions.retrieve(subscription.id)
    assert latest["items"].data[0].current_period_start == _period_end(renewed)
    assert latest.latest_invoice == invoices.data[0].id
    updated = receiver.events()[-1]
    assert "items" in updated.data.previous_attributes


def test_cancel_at_period_end_then_clock_deletes_without_invoice(client, sim, receiver):
    subscription = _subscribe(client, sim).subscription

    canceling = client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": True})
    sim.advance(400 * 86_400)
    sim.wait_for_deliveries()
    types = receiver.types()
    invoices = client.v1.invoices.list({"customer": subscription.customer})

    assert canceling.cancel_at == _period_end(subscription)
    assert types[-2:] == ["customer.subscription.updated", "customer.subscription.deleted"]
    assert receiver.events()[-2].data.previous_attributes.cancel_at_period_end is False
    assert client.v1.subscriptions.retrieve(subscription.id).status == "canceled"
    assert len(invoices.data) == 1
    assert client.v1.subscriptions.list({"customer": subscription.customer}).data == []


def test_resuming_before_period_end_keeps_renewing(client, sim):
    subscription = _subscribe(client, sim).subscription

    client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": True})
    resumed = client.v1.subscriptions.update(subscription.id, {"cancel_at_period_end": False})
    summary = sim.advance_to(_period_end(subscription))

    assert (resumed.cancel_at_period_end, resumed.cancel_at) == (False, None)
    assert summary["canceled"] == [] and len(summary["renewed"]) == 1


def test_failed_renewal_goes_past_due_and_paying_recovers(client, sim, receiver):
    subscription = _subscribe(client, sim).subscription
    sim.set_card(subscription.customer, "4000000000000002")
    sim.wait_for_deliveries()
    receiver.clear()

    summary = sim.advance_to(_period_end(subscription))
    past_due = client.v1.subscriptions.retrieve(subscription.id)
    invoice_id = summary["renewed"][0]["invoice"]
    with pytest.raises(stripe.CardError):
        client.v1.invoices.pay(invoice_id)
    sim.set_card(subscription.customer, "4242424242424242")
    paid = client.v1.invoices.pay(invoice_id)
    sim.wait_for_deliveries()

    assert summary["renewed"][0]["invoice_status"] == "open"
    assert past_due.status == "past_due"
    assert receiver.types()[:4] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert paid.status == "paid"
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"


def test_cancel_now_emits_deleted(client, sim, receiver):
    subscription = _subscribe(client, sim).subscription

    canceled = client.v1.subscriptions.cancel(subscription.id)
    sim.wait_for_deliveries()

    assert canceled.status == "canceled"
    assert receiver.types()[-1] == "customer.subscription.deleted"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(subscription.id)


def test_billing_portal_cancels_and_switches_plans(client, sim, stripe_sim, receiver):
    subscription = _subscribe(client, sim).subscription
    portal = client.v1.billing_portal.sessions.create(
        {"customer": subscription.customer, "return_url": "https://app.test/account"}
    )
    base = f"{stripe_sim.url}/portal/{portal.id}/subscriptions/{subscription.id}"

    page = httpx.get(portal.url)
    cancel = httpx.post(f"{base}/cancel")
    after_cancel = httpx.get(portal.url)
    switch = httpx.post(f"{base}/switch", data={"price": "price_sim_yearly"})
    sim.wait_for_deliveries()

    assert portal.url == f"{stripe_sim.url}/portal/{portal.id}"
    assert "Monthly Plan" in page.text and "Switch to Yearly Plan" in page.text
    assert "https://app.test/account" in page.text
    assert cancel.status_code == 303 and "Renew plan" in after_cancel.text
    assert switch.status_code == 303
    fetched = client.v1.subscriptions.retrieve(subscription.id)
    assert fetched.cancel_at_period_end is True
    assert fetched["items"].data[0].price.id == "price_sim_yearly"
    # A new interval bills at once, crediting the unused month first (an invoice item).
    assert receiver.types()[-6:] == [
        "customer.subscription.updated",
        "invoiceitem.created",
        *INVOICE_PAID,
    ]


def test_unknown_subscription_helper_errors_are_stripe_shaped(sim):
    with pytest.raises(SimControlError) as caught:
        sim.set_card("cus_missing", "4242424242424242")

    assert caught.value.status == 404
    assert caught.value.body["error"]["code"] == "resource_missing"
