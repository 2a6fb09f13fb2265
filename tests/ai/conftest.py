"""Fixtures for the AI tests: a local OpenAI-compatible server and a funded user."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from credits_app.db import get_engine
from tests.support.factories import make_user
from tests.support.openai_server import start_fake_openai


@pytest.fixture(scope="module")
def fake_openai():
    """A real HTTP server speaking chat completions on a free local port."""
    fake = start_fake_openai()
    yield fake
    fake.stop()


@pytest.fixture
def funded_user(app_settings):
    """A user with 100 credits in the database the app's settings point at."""
    with Session(get_engine()) as session:
        return make_user(session, credits=100)


@pytest.fixture
def app_session(app_settings):
    """A session on the app's configured database."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session
