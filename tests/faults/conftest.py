"""Fault tests mint tokens with the backend's secret."""

from __future__ import annotations

import pytest

from credits_app.settings import get_settings
from tests.support import processes


@pytest.fixture
def test_secrets(monkeypatch):
    """Make this process mint tokens (and sign webhooks) with the backend's secrets."""
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", processes.ACCESS_TOKEN_SECRET)
    monkeypatch.setenv("ADMIN_API_KEY", processes.ADMIN_API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", processes.WEBHOOK_SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
