"""With the database unreachable the API answers 503 `unavailable` quickly, never 500."""

from __future__ import annotations

import socket

import pytest

from credits_app.db import engine_for
from credits_app.services.tokens import generate_access_token
from credits_app.settings import get_settings
from tests.api.conftest import ADMIN_KEY, TestClient, assert_error, spend_body


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def down_client(monkeypatch):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/credits"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ADMIN_API_KEY", ADMIN_KEY)
    get_settings.cache_clear()
    from credits_app.api import create_api

    with TestClient(create_api()) as client:
        yield client
    engine_for(url).dispose()
    engine_for.cache_clear()
    get_settings.cache_clear()


def token_header() -> dict[str, str]:
    return {"Authorization": f"Bearer {generate_access_token(1, 'example-ai')}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("POST", "/api/credits/spend", spend_body(5), token_header),
        (
            "POST",
            "/api/credits/grant",
            {"userId": 1, "amount": 5, "reason": "r", "idempotencyKey": "k"},
            lambda: {"x-admin-key": ADMIN_KEY},
        ),
        ("GET", "/api/me/entitlements", None, token_header),
    ],
    ids=["spend", "grant", "entitlements"],
)
def test_an_unreachable_database_is_503_with_retry_after(down_client, method, path, body, headers):
    response = down_client.request(method, path, json=body, headers=headers())

    error = assert_error(response, 503, "unavailable")
    assert "database" in error["message"]
    assert int(response.headers["retry-after"]) > 0
    assert "postgres" not in response.text and "127.0.0.1" not in response.text


def test_bad_input_is_still_refused_before_the_database_is_needed(down_client):
    response = down_client.post("/api/credits/spend", json=spend_body("10"), headers=token_header())

    assert_error(response, 422, "invalid_request")
