import pytest
import stripe

INVOICE_PAID = ["invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]


def _subscribe(client, sim, price="price_sim_monthly"):
    customer = client.v1.customers.create({"email": "balance@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "customer": customer.id,
        }
    )
    return client.v1.subscriptions.retrieve(sim.pay(session.id)["subscription"])


def _period_end(subscription):
    return subscription["items"].data[0].current_period_end


def test_a_balance_transaction_credits_the_customer(client, sim, receiver):
    customer = client.v1.customers.create({"email": "credit@example.com"})
    sim.wait_for_deliveries()
    receiver.clear()

    credit = client.v1.customers.balance_transactions.create(
        customer.id, {"amount": -2000, "currency": "usd", "description": "Goodwill"}
    )
    sim.wait_for_deliveries()
    fetched = client.v1.customers.retrieve(customer.id)
    listed = client.v1.customers.balance_transactions.list(customer.id)

    assert credit.id.startswith("cbtxn_")
    assert (credit.object, credit.type, credit.amount) == (
        "customer_balance_transaction",
        "adjustment",
        -2000,
    )
    assert (credit.ending_balance, credit.description, credit.invoice) == (-2000, "Goodwill", None)
    assert (fetched.balance, fetched.currency) == (-2000, "usd")
    assert [t.id for t in listed.data] == [credit.id]
    assert client.v1.customers.balance_transactions.retrieve(customer.id, credit.id).amount == -2000
    [updated] = receiver.events()
    assert updated.type == "customer.updated"
    assert updated.data.previous_attributes.to_dict() == {"balance": 0, "currency": None}


def test_a_balance_in_another_currency_is_refused(client):
    customer = client.v1.customers.create({"email": "eur@example.com"})
    client.v1.customers.balance_transactions.create(
        customer.id, {"amount": -100, "currency": "usd"}
    )

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.balance_transactions.create(
            customer.id, {"amount": -100, "currency": "eur"}
        )

    assert caught.value.param == "currency"


def test_a_credit_pays_the_next_invoices_before_the_card(client, sim, receiver):
    subscription = _subscribe(client, sim)
    client.v1.customers.balance_transactions.create(
        subscription.customer, {"amount": -2000, "currency": "usd"}
    )
    sim.wait_for_deliveries()
    receiver.clear()

    first = sim.advance_to(_period_end(subscription))["renewed"][0]
    renewed = client.v1.subscriptions.retrieve(subscription.id)
    second = sim.advance_to(_period_end(renewed))["renewed"][0]
    sim.wait_for_deliveries()
    covered = client.v1.invoices.retrieve(first["invoice"])
    topped_up = client.v1.invoices.retrieve(second["invoice"])
    ledger = client.v1.customers.balance_transactions.list(subscription.customer).data

    assert (covered.status, covered.total, covered.amount_due, covered.amount_paid) == (
        "paid",
        1500,
        0,
        0,
    )
    assert (covered.starting_balance, covered.ending_balance) == (-2000, -500)
    assert client.v1.invoice_payments.list({"invoice": covered.id}).data == []
    assert (topped_up.amount_due, topped_up.amount_paid) == (1000, 1000)
    assert (topped_up.starting_balance, topped_up.ending_balance) == (-500, 0)
    assert client.v1.customers.retrieve(subscription.customer).balance == 0
    assert [(t.type, t.amount, t.invoice) for t in ledger] == [
        ("applied_to_invoice", 500, topped_up.id),
        ("applied_to_invoice", 1500, covered.id),
        ("adjustment", -2000, None),
    ]
    assert receiver.types()[:5] == [
        "invoice.created",
        "customer.updated",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_a_negative_invoice_total_becomes_credit_for_later_invoices(client, sim):
    subscription = _subscribe(client, sim, "price_sim_yearly")

    switched = client.v1.subscriptions.update(
        subscription.id,
        {"items": [{"id": subscription["items"].data[0].id, "price": "price_sim_monthly"}]},
    )
    invoice = client.v1.invoices.retrieve(switched.latest_invoice)
    customer = client.v1.customers.retrieve(subscription.customer)

    credit = invoice.lines.data[0].amount
    assert invoice.lines.data[1].amount == 1500
    assert invoice.total == credit + 1500 < 0
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 0, 0)
    assert (invoice.starting_balance, invoice.ending_balance) == (0, invoice.total)
    assert customer.balance == invoice.total
    [applied] = client.v1.customers.balance_transactions.list(subscription.customer).data
    assert (applied.type, applied.amount, applied.invoice) == (
        "applied_to_invoice",
        invoice.total,
        invoice.id,
    )
