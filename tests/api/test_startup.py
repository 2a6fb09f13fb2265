"""Configuration the API refuses at startup, and what it serves as documentation."""

from __future__ import annotations

import pytest

from credits_app.settings import (
    DEFAULT_ARGON2_MEMORY_KIB,
    DEFAULT_ARGON2_TIME_COST,
    ConfigError,
    get_settings,
)
from tests.api.conftest import ADMIN_KEY, TestClient

PROD_SECRET = "prod-token-secret-0123456789abcdef-0123456789abcdef"
PROD_WEBHOOK_SECRET = "whsec_prodstartup0123456789abcdef0123456789abcd"


@pytest.fixture
def prod_env(monkeypatch):
    monkeypatch.setenv("CREDITS_ENV", "prod")
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", PROD_SECRET)
    monkeypatch.setenv("ALLOW_SIMULATED_PAYMENTS", "1")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", PROD_WEBHOOK_SECRET)
    monkeypatch.setenv("ARGON2_TIME_COST", str(DEFAULT_ARGON2_TIME_COST))
    monkeypatch.setenv("ARGON2_MEMORY_KIB", str(DEFAULT_ARGON2_MEMORY_KIB))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("admin_key", ["short-key", "changeme-changeme-changeme"])
def test_a_short_or_placeholder_admin_key_is_refused_at_startup_in_production(prod_env, admin_key):
    from credits_app.api import create_api

    prod_env.setenv("ADMIN_API_KEY", admin_key)

    with pytest.raises(ConfigError, match="ADMIN_API_KEY"):
        create_api()


def test_production_starts_with_a_long_admin_key_or_none(prod_env):
    from credits_app.api import create_api

    create_api()
    prod_env.setenv("ADMIN_API_KEY", ADMIN_KEY)
    get_settings.cache_clear()
    create_api()


def test_openapi_and_docs_are_served_under_api():
    from credits_app.api import create_api

    with TestClient(create_api()) as client:
        schema = client.get("/api/openapi.json").json()
        docs = client.get("/api/docs")

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    for path, method in [
        ("/api/credits/spend", "post"),
        ("/api/credits/grant", "post"),
        ("/api/me/entitlements", "get"),
    ]:
        operation = schema["paths"][path][method]
        ok = operation["responses"]["200"]["content"]["application/json"]
        assert ok["schema"], path
        assert "401" in operation["responses"] and "422" in operation["responses"]
        if method == "post":
            body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            model = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
            assert model["examples"], path
    spend = schema["components"]["schemas"]["SpendRequest"]["properties"]
    assert spend["amount"]["type"] == "integer" and spend["amount"]["minimum"] == 1


def _has_example(content: dict, components: dict) -> bool:
    media = content.get("application/json", {})
    if "example" in media or "examples" in media:
        return True
    ref = media.get("schema", {}).get("$ref")
    return bool(ref and components[ref.rsplit("/", 1)[1]].get("examples"))


def test_every_operation_documents_bodies_with_examples_and_the_error_body():
    from credits_app.api import create_api

    schema = create_api().openapi()
    components = schema["components"]["schemas"]
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            body = operation.get("requestBody", {}).get("content")
            if body and not _has_example(body, components):
                missing.append(f"{name}: request example")
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if status.startswith("2") and content and not _has_example(content, components):
                    missing.append(f"{name}: {status} example")
                if status.startswith(("4", "5")):
                    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if not ref.endswith("/ErrorBody"):
                        missing.append(f"{name}: {status} is not the error body")
    assert missing == []
