"""The shared route helpers other routers rely on: `json_body` and the database safety nets."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends
from sqlalchemy import text

from credits_app.api.deps import SessionDep, json_body
from credits_app.db import engine_for
from credits_app.settings import get_settings
from tests.api.conftest import TestClient, assert_error


def echo_app():
    from credits_app.api import create_api

    api = create_api()

    def echo(body: Annotated[dict, Depends(json_body)]) -> dict:
        return body

    def store(session: SessionDep, body: Annotated[dict, Depends(json_body)]) -> dict:
        session.exec(text("SELECT CAST(:value AS TEXT)"), params={"value": body["value"]})
        return {"ok": True}

    api.add_api_route("/echo", echo, methods=["POST"])
    api.add_api_route("/store", store, methods=["POST"])
    return api


@pytest.fixture
def echo_client(api_settings):
    with TestClient(echo_app()) as client:
        yield client


def post_raw(client, path: str, raw: bytes):
    return client.post(path, content=raw, headers={"content-type": "application/json"})


def test_json_body_returns_the_object(echo_client):
    assert post_raw(echo_client, "/echo", b'{"a": [1, {"b": null}]}').json() == {
        "a": [1, {"b": None}]
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "must be a JSON object"),
        (b"  ", "must be a JSON object"),
        (b"[]", "must be a JSON object"),
        (b"3", "must be a JSON object"),
        (b"{", "is not valid JSON"),
        (b'{"a": NaN}', "is not valid JSON"),
        (b'{"a": Infinity}', "is not valid JSON"),
        (b"\xff", "is not valid JSON"),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None),
        (b'{"a": "\\ud800"}', "contains an invalid unicode escape"),
        (b'{"\\udc00": 1}', "contains an invalid unicode escape"),
    ],
    ids=lambda v: repr(v)[:30] if isinstance(v, bytes) else str(v),
)
def test_json_body_refuses_what_is_not_a_json_object(echo_client, monkeypatch, raw, reason):
    monkeypatch.setenv("MAX_REQUEST_BYTES", str(1024 * 1024))
    get_settings.cache_clear()

    error = assert_error(post_raw(echo_client, "/echo", raw), 422, "invalid_request")

    assert error["field"] == "body"
    if reason:
        assert error["message"] == f"body: {reason}"


def test_a_value_postgresql_cannot_store_is_422_not_500(postgres_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    try:
        with TestClient(echo_app()) as client:
            response = post_raw(client, "/store", b'{"value": "a\\u0000b"}')
    finally:
        engine_for(postgres_url).dispose()
        engine_for.cache_clear()
        get_settings.cache_clear()

    assert_error(response, 422, "invalid_request")
