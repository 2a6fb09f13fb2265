"""Tests that drive the app's backend over its websocket also check that backend's ledger."""

from __future__ import annotations

import pytest

from credits_app.settings import get_settings


@pytest.fixture
def ledger_check_urls(ledger_check_urls, request):
    """Also check the ledger of the `backend` fixture's database, when a test uses it."""
    if "backend" not in request.fixturenames:
        return ledger_check_urls
    return [*ledger_check_urls, get_settings().database_url]
