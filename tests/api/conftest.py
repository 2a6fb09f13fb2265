"""Fixtures for HTTP tests: the real API app on a fresh database, users and their tokens."""

from __future__ import annotations

import uuid
import warnings

import pytest
from sqlmodel import Session

from credits_app.services import ratelimit
from credits_app.services.invariants import check_ledger
from credits_app.services.tokens import generate_access_token
from credits_app.settings import get_settings
from tests.support.factories import make_user

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its TestClient; httpx is what we pin.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN_KEY = "test-admin-key-0123456789abcdef"
FEATURE = "example-ai"


@pytest.fixture
def api_settings(app_settings, monkeypatch):
    """App settings on the test database, with an admin key and a fresh rate limiter."""
    monkeypatch.setenv("ADMIN_API_KEY", ADMIN_KEY)
    get_settings.cache_clear()
    ratelimit.limiter_for.cache_clear()
    yield get_settings()
    ratelimit.limiter_for.cache_clear()


@pytest.fixture
def client(api_settings):
    """A TestClient on `create_api()`; a server-side exception fails the test."""
    from credits_app.api import create_api

    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def user(session):
    """A user holding 100 credits."""
    return make_user(session, credits=100)


@pytest.fixture
def other_user(session):
    """A second user holding 50 credits."""
    return make_user(session, credits=50)


def bearer(user_id: int, feature: str = FEATURE, ttl: int | None = None) -> dict[str, str]:
    """Authorization header with a fresh access token."""
    return {"Authorization": f"Bearer {generate_access_token(user_id, feature, ttl)}"}


def admin(key: str = ADMIN_KEY) -> dict[str, str]:
    """The admin key header."""
    return {"x-admin-key": key}


def key() -> str:
    """A fresh idempotency key."""
    return f"k-{uuid.uuid4().hex}"


def spend_body(amount=10, feature: str = FEATURE, idempotency_key: str | None = None) -> dict:
    """A spend request body."""
    return {"amount": amount, "feature": feature, "idempotencyKey": idempotency_key or key()}


def assert_error(response, status: int, code: str) -> dict:
    """Assert the error contract and return the error object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.fixture
def ledger_ok(engine):
    """Call at the end of a test that wrote: the ledger invariants hold (same check as CLI)."""

    def check() -> None:
        with Session(engine) as fresh:
            assert check_ledger(session=fresh) == []

    return check
