"""Over real HTTP: an AI run is paid for exactly the output it delivered, whatever the client does.

These drive the real API (uvicorn, server-sent events) with an OpenAI-compatible provider
that streams three words and then pauses, so the test knows exactly what was delivered when
it hangs up or pokes at the run's hold.
"""

from __future__ import annotations

import time

import httpx
import pytest
from sqlmodel import Session

from credits_app.db import get_engine
from credits_app.models import CreditHold, HoldStatus
from credits_app.services.accounts import balance_of
from credits_app.services.ai import actual_cost
from credits_app.settings import get_settings
from tests.api.conftest import bearer, key
from tests.support.api_server import serve_api
from tests.support.cli import assert_check_ok
from tests.support.openai_server import PAUSE_AFTER
from tests.support.sse import sse_events

USE_CREDITS = "/api/example/use-credits"
PROMPT = "Our team loves the new dashboard, but the export button is broken and slow."
STREAM = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def api_server():
    """The app's API on a real socket (the TestClient cannot hang up mid-stream)."""
    served = serve_api()
    yield served
    served.stop()


@pytest.fixture
def provider(app_settings, monkeypatch, fake_openai):
    """Point the app at the fake OpenAI server; `use(model)` picks its behaviour."""
    fake_openai.pause = 1.0

    def use(model: str) -> None:
        monkeypatch.setenv("AI_PROVIDER", "openai")
        monkeypatch.setenv("AI_BASE_URL", fake_openai.base_url)
        monkeypatch.setenv("AI_API_KEY", "sk-test-123")
        monkeypatch.setenv("AI_MODEL", model)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def _hold(hold_id: int) -> CreditHold:
    with Session(get_engine()) as session:
        return session.get(CreditHold, hold_id)


def _settled_hold(hold_id: int, timeout: float = 20.0) -> CreditHold:
    """Wait until the run settled its hold (a hung-up client is noticed asynchronously)."""
    deadline = time.monotonic() + timeout
    while (hold := _hold(hold_id)).status == HoldStatus.ACTIVE:
        assert time.monotonic() < deadline, f"hold {hold_id} is still active"
        time.sleep(0.05)
    return hold


def _balance(user_id: int) -> int:
    with Session(get_engine()) as session:
        return balance_of(session=session, user_id=user_id).balance


def test_the_public_api_cannot_release_a_streaming_run_and_the_run_is_paid(
    api_server, provider, funded_user, db_url
):
    provider("pause")
    headers = {**bearer(funded_user.id), **STREAM}
    body = {"prompt": PROMPT, "idempotencyKey": key()}

    with (
        httpx.Client(base_url=api_server.url, timeout=30) as client,
        client.stream("POST", USE_CREDITS, json=body, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        events = sse_events(response)
        _, reserved = next(events)
        chunks = [next(events)[1]["text"] for _ in range(PAUSE_AFTER)]
        # The provider pauses: the client tries to take the run's hold back, then reads on.
        url = f"/api/credits/holds/{reserved['hold_id']}"
        release = client.post(
            f"{url}/release", json={"idempotencyKey": key()}, headers=bearer(funded_user.id)
        )
        capture = client.post(
            f"{url}/capture",
            json={"amount": 1, "idempotencyKey": key()},
            headers=bearer(funded_user.id),
        )
        rest = list(events)

    chunks += [data["text"] for kind, data in rest if kind == "chunk"]
    cost = actual_cost(PROMPT, "".join(chunks))
    outcome = (release.status_code, capture.status_code, rest[-1][0], _balance(funded_user.id))
    assert outcome == (403, 403, "finished", 100 - cost)
    assert release.json()["error"]["code"] == capture.json()["error"]["code"] == "forbidden"
    assert rest[-1][1]["cost"] == cost
    assert _hold(reserved["hold_id"]).captured == cost
    assert_check_ok(db_url)


def test_hanging_up_mid_stream_charges_exactly_what_was_delivered(
    api_server, provider, funded_user, db_url
):
    provider("pause")
    headers = {**bearer(funded_user.id), **STREAM}
    body = {"prompt": PROMPT, "idempotencyKey": key()}

    with (
        httpx.Client(base_url=api_server.url, timeout=30) as client,
        client.stream("POST", USE_CREDITS, json=body, headers=headers) as response,
    ):
        events = sse_events(response)
        _, reserved = next(events)
        chunks = [next(events)[1]["text"] for _ in range(PAUSE_AFTER)]
    # Leaving the block closed the connection while the provider pauses.

    hold = _settled_hold(reserved["hold_id"])
    cost = actual_cost(PROMPT, "".join(chunks))
    assert (hold.status, hold.captured, _balance(funded_user.id)) == ("captured", cost, 100 - cost)
    assert hold.result == "".join(chunks)
    assert_check_ok(db_url)


def test_a_provider_failing_mid_run_is_charged_for_the_output_it_returned(
    api_server, provider, funded_user, db_url
):
    provider("garbage")  # one chunk, "ok ", then a broken stream
    body = {"prompt": PROMPT, "idempotencyKey": key()}

    with httpx.Client(base_url=api_server.url, timeout=30) as client:
        failed = client.post(USE_CREDITS, json=body, headers=bearer(funded_user.id))

    cost = actual_cost(PROMPT, "ok ")
    assert (failed.status_code, _balance(funded_user.id)) == (502, 100 - cost)
    error = failed.json()["error"]
    assert (error["code"], error["charged"], error["result"]) == ("provider_error", cost, "ok ")
    assert_check_ok(db_url)
