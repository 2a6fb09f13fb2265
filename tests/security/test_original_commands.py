"""The original system's commands work as written: its curl lines, its string user ids.

Its clients send `userId` as a string (`"userId": "user-id"` in its grant example), so the API
takes a user id as a JSON integer or as a string of ASCII digits, and nothing else. These tests
replay its lines in-process; tests/runtime/test_run_modes.py replays them on port 3000's
counterpart of a real `make run`.
"""

from __future__ import annotations

import re

import pytest
from pydantic_core import PydanticCustomError
from sqlmodel import select

from credits_app.api.schemas.common import USER_ID_PATTERN, parse_user_id
from credits_app.models import LedgerEntry
from credits_app.settings import get_settings
from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.testing import start_in_thread
from tests.api.conftest import TestClient, assert_error, key
from tests.support import original_commands as original
from tests.support.factories import make_user

GRANT = "/api/credits/grant"
MAX_USER_ID = 2**31 - 1


@pytest.fixture
def client(app_settings, monkeypatch):
    """The API on the test database, with the admin key the original's README uses."""
    from credits_app.api import create_api

    monkeypatch.setenv("ADMIN_API_KEY", original.ADMIN_KEY)
    get_settings.cache_clear()
    with TestClient(create_api()) as test_client:
        yield test_client
    get_settings.cache_clear()


def _grant(client, user_id, idempotency_key=None):
    body = {
        "userId": user_id,
        "amount": 7,
        "reason": "r",
        "idempotencyKey": idempotency_key or key(),
    }
    return client.post(GRANT, json=body, headers={"x-admin-key": original.ADMIN_KEY})


def test_the_original_grant_command_works_with_the_user_id_as_a_string(client, session):
    user = make_user(session, credits=0)
    request = original.with_user_id(original.parse_curl(original.GRANT), str(user.id))

    response = original.send(request, client)

    assert response.status_code == 200, response.text
    assert response.json()["balance"] == 100


def test_the_original_grant_example_as_written_names_user_id(client):
    response = original.send(original.parse_curl(original.GRANT), client)

    error = assert_error(response, 422, "invalid_request")
    assert error["field"] == "userId"
    assert "string of digits" in error["message"]


@pytest.mark.parametrize("form", ["int", "str"])
def test_a_user_id_is_a_json_integer_or_a_string_of_digits(client, session, form):
    user = make_user(session, credits=0)
    user_id = user.id if form == "int" else str(user.id)

    response = _grant(client, user_id)

    assert response.status_code == 200, response.text
    assert response.json()["balance"] == 7


def test_both_spellings_of_one_user_id_are_the_same_request(client, session):
    user = make_user(session, credits=0)
    same_key = key()

    first = _grant(client, user.id, same_key)
    again = _grant(client, str(user.id), same_key)

    assert first.status_code == again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}


@pytest.mark.parametrize(
    "user_id",
    [
        "user-id",
        "4.2",
        "-1",
        "+42",
        " 42",
        "42 ",
        "42\n",
        "0042",
        "0",
        "",
        "4e1",
        "0x2a",
        "\u0664\u0662",  # Arabic-Indic digits: str.isdigit() says yes, we say no
        "\uff14\uff12",  # full-width digits
        str(MAX_USER_ID + 1),
        "9" * 400,
        0,
        -1,
        MAX_USER_ID + 1,
        4.2,
        42.0,
        True,
        None,
        [42],
        {"id": 42},
    ],
    ids=repr,
)
def test_anything_else_is_a_422_naming_user_id_and_writes_nothing(client, session, user_id):
    make_user(session, credits=0)

    response = _grant(client, user_id)

    error = assert_error(response, 422, "invalid_request")
    assert error["field"] == "userId", error
    assert session.exec(select(LedgerEntry).where(LedgerEntry.kind == "grant")).all() == []


def test_the_largest_user_id_is_accepted_as_a_string(client):
    response = _grant(client, str(MAX_USER_ID))

    # Valid, but no such user: the id passed validation and reached the ledger.
    assert_error(response, 404, "not_found")


def test_the_openapi_schema_documents_both_forms(client):
    schema = client.get("/api/openapi.json").json()
    user_id = schema["components"]["schemas"]["GrantRequest"]["properties"]["userId"]

    kinds = {option["type"] for option in user_id["anyOf"]}
    assert kinds == {"integer", "string"}


@pytest.fixture
def simulator():
    running = start_in_thread(SimConfig(forward_to=""))
    yield running
    running.stop()


def test_the_original_sync_prices_command_works(client, simulator, monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", simulator.url)
    get_settings.cache_clear()

    response = original.send(original.parse_curl(original.SYNC_PRICES), client)

    assert response.status_code == 200, response.text
    assert "price_sim_starter" in response.json()["imported"]


def test_an_event_forwarded_by_stripe_listen_is_received(client):
    secret = get_settings().stripe_webhook_secret
    body, headers = original.stripe_cli_delivery(original.triggered_event(), secret)

    response = client.post(original.forward_url(), content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"  # a type the app does not use


def _accepted(text: str) -> bool:
    try:
        parse_user_id(text)
    except PydanticCustomError:
        return False
    return True


def test_the_schema_pattern_names_exactly_the_strings_the_api_accepts():
    pattern = re.compile(USER_ID_PATTERN)
    numbers = {MAX_USER_ID + d for d in range(-12, 12)}
    numbers |= {10**k + d for k in range(11) for d in (-1, 0, 1)}
    # Each prefix of the largest id followed by 9s: just above the range at every digit.
    numbers |= {int("2147483647"[:i] + "9" * (10 - i)) for i in range(10)}
    samples = [str(n) for n in numbers if n >= 0] + ["0", "01", "00", "-5", "99999999999"]

    mismatched = [s for s in samples if bool(pattern.fullmatch(s)) != _accepted(s)]

    assert mismatched == []
    assert _accepted(str(MAX_USER_ID)) and not _accepted(str(MAX_USER_ID + 1))
