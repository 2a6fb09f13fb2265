import pytest
import stripe

SEEDED = {
    "price_sim_starter": ("prod_sim_starter", 500, "100", None),
    "price_sim_pro": ("prod_sim_pro", 2000, "500", None),
    "price_sim_enterprise": ("prod_sim_enterprise", 6000, "2000", None),
    "price_sim_monthly": ("prod_sim_monthly", 1500, "1000", "month"),
    "price_sim_yearly": ("prod_sim_yearly", 15000, "15000", "year"),
}


def test_seeded_catalogue_pages_through_every_price(client):
    first_page = client.v1.prices.list({"limit": 2})
    prices = list(first_page.auto_paging_iter())

    assert first_page.has_more is True
    assert len(first_page.data) == 2
    assert {
        p.id: (
            p.product,
            p.unit_amount,
            p.metadata["includedCredits"],
            p.recurring.interval if p.recurring else None,
        )
        for p in prices
    } == SEEDED
    assert all(p.currency == "usd" and p.livemode is False for p in prices)
    assert {p.type for p in prices} == {"one_time", "recurring"}


def test_price_list_expands_products_and_filters(client):
    plans = client.v1.prices.list({"type": "recurring", "expand": ["data.product"]})

    assert sorted(p.id for p in plans.data) == ["price_sim_monthly", "price_sim_yearly"]
    assert {p.product.name for p in plans.data} == {"Monthly Plan", "Yearly Plan"}
    assert plans.data[0].product.object == "product"


def test_retrieve_price_expands_its_product(client):
    price = client.v1.prices.retrieve("price_sim_pro", {"expand": ["product"]})

    assert price.product.id == "prod_sim_pro"
    assert price.product.name == "Pro Pack"
    assert price.lookup_key == "credits_pro"


def test_unknown_price_raises_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.retrieve("price_missing")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"
    assert caught.value.user_message == "No such price: 'price_missing'"


def test_deactivated_price_leaves_active_list_and_checkout_rejects_it(client):
    client.v1.prices.update("price_sim_pro", {"active": False})

    active = client.v1.prices.list({"active": True, "limit": 100})
    inactive = client.v1.prices.list({"active": False})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": [{"price": "price_sim_pro", "quantity": 1}]}
        )

    assert "price_sim_pro" not in [p.id for p in active.data]
    assert [p.id for p in inactive.data] == ["price_sim_pro"]
    assert caught.value.param == "line_items[0][price]"


def test_new_product_and_plan_price_are_listed_with_events(client, sim, receiver):
    product = client.v1.products.create({"name": "Team Plan", "metadata": {"tier": "team"}})
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 4900,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "metadata": {"includedCredits": "5000"},
        }
    )
    sim.wait_for_deliveries()

    assert price.type == "recurring" and price.recurring.interval_count == 1
    assert client.v1.prices.list({"product": product.id}).data[0].id == price.id
    assert receiver.types() == ["product.created", "price.created"]


def test_customer_create_update_list_and_search(client):
    customer = client.v1.customers.create(
        {"email": "ada@example.com", "metadata": {"user_id": "7"}}
    )
    client.v1.customers.update(customer.id, {"name": "Ada", "metadata": {"plan": "pro"}})

    fetched = client.v1.customers.retrieve(customer.id)
    by_email = client.v1.customers.list({"email": "ada@example.com"})
    found = client.v1.customers.search({"query": "metadata['user_id']:'7'"})

    assert customer.id.startswith("cus_")
    assert fetched.name == "Ada"
    assert fetched.metadata.to_dict() == {"user_id": "7", "plan": "pro"}
    assert [c.id for c in by_email.data] == [customer.id]
    assert [c.id for c in found.data] == [customer.id]
