import httpx

from .conftest import CURRENT_VERSION


def test_every_api_request_is_logged_with_its_params_and_headers(client, sim, stripe_sim):
    created = client.v1.customers.create(
        {"email": "log@example.com", "metadata": {"user_id": "42"}},
        {"idempotency_key": "create-log-customer"},
    )
    client.v1.prices.list({"lookup_keys": ["credits_pro"], "limit": 3})
    httpx.post(
        f"{stripe_sim.url}/v1/unknown_things",
        data={"a": "b"},
        headers={"Authorization": "Bearer sk_test_x"},
    )

    logged = sim.requests()

    assert [(r["method"], r["path"], r["status"]) for r in logged] == [
        ("POST", "/v1/customers", 200),
        ("GET", "/v1/prices", 200),
        ("POST", "/v1/unknown_things", 404),
    ]
    first = logged[0]
    assert first["params"] == {"email": "log@example.com", "metadata": {"user_id": "42"}}
    assert (first["stripe_version"], first["idempotency_key"]) == (
        CURRENT_VERSION,
        "create-log-customer",
    )
    assert first["id"].startswith("req_") and isinstance(first["time"], int)
    assert logged[1]["params"] == {"lookup_keys": ["credits_pro"], "limit": "3"}
    assert logged[2]["params"] == {"a": "b"}
    assert [r["path"] for r in sim.requests("/v1/prices")] == ["/v1/prices"]
    assert created.email == "log@example.com"


def test_a_reset_clears_the_request_log(client, sim):
    client.v1.customers.list()

    sim.reset()

    assert sim.requests() == []
