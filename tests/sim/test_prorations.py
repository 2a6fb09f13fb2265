import httpx
import pytest

DAY = 86_400
TIMES = "\N{MULTIPLICATION SIGN}"
INVOICE_PAID = ["invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]


def _subscribe(client, sim, price="price_sim_monthly", quantity=1):
    customer = client.v1.customers.create({"email": "prorate@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": quantity}],
            "customer": customer.id,
        }
    )
    return client.v1.subscriptions.retrieve(sim.pay(session.id)["subscription"])


def _premium(client):
    """A second monthly plan at $30.00, so a switch keeps the interval."""
    return client.v1.prices.create(
        {
            "currency": "usd",
            "unit_amount": 3000,
            "recurring": {"interval": "month"},
            "product": "prod_sim_monthly",
        }
    )


def _share(item, at):
    """Stripe prorates by the time left in the period."""
    return (item.current_period_end - at) / (item.current_period_end - item.current_period_start)


def _switch(client, subscription, **change):
    behaviour = change.pop("proration_behavior", None)
    params = {"items": [{"id": subscription["items"].data[0].id, **change}]}
    if behaviour:
        params["proration_behavior"] = behaviour
    return client.v1.subscriptions.update(subscription.id, params)


def test_create_prorations_leaves_pending_items_that_the_renewal_bills_first(client, sim, receiver):
    premium = _premium(client)
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]
    sim.advance(10 * DAY)
    sim.wait_for_deliveries()
    receiver.clear()

    switched = _switch(client, subscription, price=premium.id)
    sim.wait_for_deliveries()
    created = [e.data.object for e in receiver.events()[1:]]
    pending = client.v1.invoice_items.list({"customer": subscription.customer, "pending": True})
    renewal = sim.advance_to(item.current_period_end)["renewed"][0]
    sim.wait_for_deliveries()
    invoice = client.v1.invoices.retrieve(renewal["invoice"])

    at = created[0].period.start
    credit, charge = -round(1500 * _share(item, at)), round(3000 * _share(item, at))
    assert receiver.types() == [
        "customer.subscription.updated",
        "invoiceitem.created",
        "invoiceitem.created",
        *INVOICE_PAID,
        "customer.subscription.updated",
    ]
    assert switched.latest_invoice == subscription.latest_invoice
    assert [(i.amount, i.proration, i.invoice) for i in created] == [
        (credit, True, None),
        (charge, True, None),
    ]
    assert created[0].description.startswith("Unused time on Monthly Plan after ")
    assert created[0].pricing.price_details.price == "price_sim_monthly"
    assert created[1].pricing.price_details.price == premium.id
    assert {i.id for i in pending.data} == {i.id for i in created}
    assert (invoice.billing_reason, invoice.status) == ("subscription_cycle", "paid")
    assert [line.amount for line in invoice.lines.data] == [credit, charge, 3000]
    assert [line.parent.type for line in invoice.lines.data] == [
        "invoice_item_details",
        "invoice_item_details",
        "subscription_item_details",
    ]
    details = invoice.lines.data[0].parent.invoice_item_details
    assert (details.invoice_item, details.proration) == (created[0].id, True)
    assert details.proration_details.credited_items.invoice == subscription.latest_invoice
    assert invoice.lines.data[2].parent.subscription_item_details.proration is False
    assert invoice.total == invoice.amount_paid == credit + charge + 3000
    assert client.v1.invoice_items.retrieve(created[0].id).invoice == invoice.id


def test_always_invoice_bills_the_prorations_at_once(client, sim, receiver):
    premium = _premium(client)
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]
    sim.advance(10 * DAY)
    sim.wait_for_deliveries()
    receiver.clear()

    switched = _switch(client, subscription, price=premium.id, proration_behavior="always_invoice")
    invoice = client.v1.invoices.retrieve(switched.latest_invoice)
    renewal = sim.advance_to(item.current_period_end)["renewed"][0]
    sim.wait_for_deliveries()

    at = invoice.lines.data[0].period.start
    credit, charge = -round(1500 * _share(item, at)), round(3000 * _share(item, at))
    assert receiver.types()[:7] == [
        "customer.subscription.updated",
        "invoiceitem.created",
        "invoiceitem.created",
        *INVOICE_PAID,
    ]
    assert invoice.billing_reason == "subscription_update"
    assert [line.amount for line in invoice.lines.data] == [credit, charge]
    assert (invoice.total, invoice.amount_paid) == (credit + charge, credit + charge)
    next_lines = client.v1.invoices.retrieve(renewal["invoice"]).lines.data
    assert [(line.amount, line.parent.type) for line in next_lines] == [
        (3000, "subscription_item_details")
    ]


def test_proration_behavior_none_changes_the_price_without_any_proration(client, sim, receiver):
    premium = _premium(client)
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]
    sim.wait_for_deliveries()
    receiver.clear()

    _switch(client, subscription, price=premium.id, proration_behavior="none")
    renewal = sim.advance_to(item.current_period_end)["renewed"][0]
    sim.wait_for_deliveries()

    assert receiver.types()[0] == "customer.subscription.updated"
    assert "invoiceitem.created" not in receiver.types()
    assert client.v1.invoice_items.list({"customer": subscription.customer}).data == []
    lines = client.v1.invoices.retrieve(renewal["invoice"]).lines.data
    assert [line.amount for line in lines] == [3000]


def test_a_quantity_change_prorates_and_then_bills_unit_amount_times_quantity(client, sim):
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]
    sim.advance(5 * DAY)

    switched = _switch(client, subscription, quantity=3, proration_behavior="always_invoice")
    invoice = client.v1.invoices.retrieve(switched.latest_invoice)
    renewal = sim.advance_to(item.current_period_end)["renewed"][0]
    renewal_line = client.v1.invoices.retrieve(renewal["invoice"]).lines.data[0]

    at = invoice.lines.data[0].period.start
    credit, charge = -round(1500 * _share(item, at)), round(4500 * _share(item, at))
    assert switched["items"].data[0].quantity == 3
    assert [(line.amount, line.quantity) for line in invoice.lines.data] == [
        (credit, 1),
        (charge, 3),
    ]
    assert invoice.lines.data[1].description.startswith(f"Remaining time on 3 {TIMES} Monthly Plan")
    assert (renewal_line.amount, renewal_line.quantity) == (4500, 3)
    assert renewal_line.description == f"3 {TIMES} Monthly Plan (at $15.00 / month)"


def test_a_checkout_quantity_bills_unit_amount_times_quantity(client, sim):
    subscription = _subscribe(client, sim, quantity=2)

    invoice = client.v1.invoices.retrieve(subscription.latest_invoice)

    assert [(line.amount, line.quantity) for line in invoice.lines.data] == [(3000, 2)]
    assert invoice.amount_paid == 3000


def test_an_interval_change_bills_the_new_year_at_once_with_a_credit_for_unused_time(
    client, sim, receiver
):
    subscription = _subscribe(client, sim)
    item = subscription["items"].data[0]
    sim.advance(10 * DAY)
    sim.wait_for_deliveries()
    receiver.clear()

    switched = _switch(client, subscription, price="price_sim_yearly")
    sim.wait_for_deliveries()
    invoice = client.v1.invoices.retrieve(switched.latest_invoice)

    new_item = switched["items"].data[0]
    at = invoice.lines.data[0].period.start
    credit = -round(1500 * _share(item, at))
    assert receiver.types() == [
        "customer.subscription.updated",
        "invoiceitem.created",
        *INVOICE_PAID,
    ]
    assert switched.billing_cycle_anchor == new_item.current_period_start == at
    assert invoice.billing_reason == "subscription_update"
    assert [line.amount for line in invoice.lines.data] == [credit, 15000]
    assert [line.parent.type for line in invoice.lines.data] == [
        "invoice_item_details",
        "subscription_item_details",
    ]
    assert invoice.lines.data[1].period.end == new_item.current_period_end
    assert invoice.amount_paid == 15000 + credit
    previous = receiver.events()[0].data.previous_attributes
    assert previous["items"].data[0].price.id == "price_sim_monthly"
    assert previous.latest_invoice == subscription.latest_invoice


@pytest.mark.parametrize(
    ("behaviour", "pending", "invoiced"),
    [("create_prorations", 2, False), ("always_invoice", 0, True), ("none", 0, False)],
)
def test_the_portal_switches_plans_with_the_configured_proration_behavior(
    client, sim, stripe_sim, behaviour, pending, invoiced
):
    premium = _premium(client)
    subscription = _subscribe(client, sim)
    sim.advance(3 * DAY)
    portal = client.v1.billing_portal.sessions.create({"customer": subscription.customer})
    if behaviour != "create_prorations":
        sim.configure(portal_proration_behavior=behaviour)

    page = httpx.get(portal.url)
    answer = httpx.post(
        f"{portal.url}/subscriptions/{subscription.id}/switch",
        data={"price": premium.id},
        follow_redirects=True,
    )

    fetched = client.v1.subscriptions.retrieve(subscription.id)
    items = client.v1.invoice_items.list({"customer": subscription.customer, "pending": True})
    assert 'action="' in page.text and "Update quantity" in page.text
    assert "You are now on the Monthly Plan." in answer.text
    assert fetched["items"].data[0].price.id == premium.id
    assert len(items.data) == pending
    assert (fetched.latest_invoice != subscription.latest_invoice) is invoiced
    assert sim.call("GET", "/_sim/config")["portal_proration_behavior"] == behaviour


def test_the_portal_changes_the_quantity(client, sim, stripe_sim):
    subscription = _subscribe(client, sim)
    portal = client.v1.billing_portal.sessions.create({"customer": subscription.customer})

    answer = httpx.post(
        f"{portal.url}/subscriptions/{subscription.id}/quantity",
        data={"quantity": "4"},
        follow_redirects=True,
    )
    refused = httpx.post(
        f"{portal.url}/subscriptions/{subscription.id}/quantity",
        data={"quantity": "0"},
        follow_redirects=True,
    )

    assert "Your plan now has a quantity of 4." in answer.text
    assert "This value must be greater than or equal to 1." in refused.text
    assert client.v1.subscriptions.retrieve(subscription.id)["items"].data[0].quantity == 4


def test_an_unknown_portal_proration_behavior_is_refused(sim):
    from credits_app.stripe_sim.control import SimControlError

    with pytest.raises(SimControlError) as caught:
        sim.configure(portal_proration_behavior="sometimes")

    assert caught.value.status == 400
    assert caught.value.body["error"]["param"] == "portal_proration_behavior"
    assert sim.call("GET", "/_sim/config")["portal_proration_behavior"] == "create_prorations"
