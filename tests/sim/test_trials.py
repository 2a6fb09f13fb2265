import httpx
import pytest
import stripe

DAY = 86_400
TIMES = "\N{MULTIPLICATION SIGN}"
INVOICE_PAID = ["invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]


def _trial_session(client, days=7, **extra):
    customer = client.v1.customers.create({"email": "trial@example.com"})
    return client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": "price_sim_monthly", "quantity": 1}],
            "customer": customer.id,
            "subscription_data": {"trial_period_days": days, **extra},
            "success_url": "https://app.test/ok",
        }
    )


def test_a_checkout_trial_starts_trialing_with_a_zero_invoice(client, sim, receiver):
    session = _trial_session(client)

    paid = sim.pay(session.id)
    sim.wait_for_deliveries()
    subscription = client.v1.subscriptions.retrieve(paid["subscription"])
    invoice = client.v1.invoices.retrieve(paid["invoice"])
    item = subscription["items"].data[0]

    assert paid["payment_status"] == "no_payment_required"
    assert subscription.status == "trialing"
    assert subscription.trial_end == subscription.trial_start + 7 * DAY
    assert (item.current_period_start, item.current_period_end) == (
        subscription.trial_start,
        subscription.trial_end,
    )
    assert subscription.billing_cycle_anchor == subscription.trial_end
    assert (invoice.billing_reason, invoice.status) == ("subscription_create", "paid")
    assert (invoice.total, invoice.amount_due, invoice.amount_paid) == (0, 0, 0)
    [line] = invoice.lines.data
    assert (line.amount, line.quantity) == (0, 1)
    assert line.description == "Trial period for Monthly Plan"
    assert (line.period.start, line.period.end) == (
        subscription.trial_start,
        subscription.trial_end,
    )
    assert client.v1.invoice_payments.list({"invoice": invoice.id}).data == []
    assert receiver.types() == [
        "customer.created",
        "customer.subscription.created",
        *INVOICE_PAID,
        "checkout.session.completed",
    ]


def test_the_trial_end_bills_the_full_period_and_activates_the_plan(client, sim, receiver):
    paid = sim.pay(_trial_session(client, days=14).id)
    subscription = client.v1.subscriptions.retrieve(paid["subscription"])
    sim.wait_for_deliveries()
    receiver.clear()

    summary = sim.advance_to(subscription.trial_end)
    sim.wait_for_deliveries()
    renewed = client.v1.subscriptions.retrieve(subscription.id)
    invoice = client.v1.invoices.retrieve(summary["renewed"][0]["invoice"])

    item = renewed["items"].data[0]
    assert renewed.status == "active"
    assert item.current_period_start == subscription.trial_end
    assert summary["renewed"][0]["period_end"] == item.current_period_end
    assert (invoice.billing_reason, invoice.amount_paid) == ("subscription_cycle", 1500)
    assert invoice.lines.data[0].description == f"1 {TIMES} Monthly Plan (at $15.00 / month)"
    assert receiver.types() == [*INVOICE_PAID, "customer.subscription.updated"]
    assert receiver.events()[-1].data.previous_attributes.status == "trialing"


def test_a_trial_can_end_at_a_given_time(client, sim):
    now = sim.call("GET", "/_sim/health")["now"]
    customer = client.v1.customers.create({"email": "trial-end@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": "price_sim_monthly", "quantity": 1}],
            "customer": customer.id,
            "subscription_data": {"trial_end": now + 3 * DAY},
        }
    )

    subscription = client.v1.subscriptions.retrieve(sim.pay(session.id)["subscription"])

    assert (subscription.status, subscription.trial_end) == ("trialing", now + 3 * DAY)


@pytest.mark.parametrize(
    ("mode", "data", "param"),
    [
        ("subscription", {"trial_period_days": 0}, "subscription_data[trial_period_days]"),
        ("subscription", {"trial_period_days": 731}, "subscription_data[trial_period_days]"),
        ("subscription", {"trial_end": 1}, "subscription_data[trial_end]"),
        ("payment", {"trial_period_days": 7}, "subscription_data"),
    ],
)
def test_trial_limits_are_checked_like_stripe(client, mode, data, param):
    price = "price_sim_monthly" if mode == "subscription" else "price_sim_pro"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            {
                "mode": mode,
                "line_items": [{"price": price, "quantity": 1}],
                "subscription_data": data,
            }
        )

    assert (caught.value.http_status, caught.value.param) == (400, param)


def test_the_hosted_page_offers_the_trial(client, stripe_sim):
    session = _trial_session(client)

    page = httpx.get(f"{stripe_sim.url}/checkout/{session.id}")

    assert "Start trial: 7 days free, then $15.00 / month" in page.text
