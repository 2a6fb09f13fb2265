"""The error contract for what FastAPI and Starlette would answer themselves."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI

from tests.api.conftest import TestClient, assert_error, bearer, spend_body

SPEND = "/api/credits/spend"


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/nope", "/api/credits", "/api/credits/x/y"])
def test_unknown_api_paths_are_404_json(client, path):
    assert_error(client.get(path), 404, "not_found")
    assert_error(client.post(path, json={}), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", SPEND, "POST"),
        ("DELETE", "/api/credits/grant", "POST"),
        ("POST", "/api/me/entitlements", "GET"),
        ("PUT", "/api/openapi.json", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_405_json_with_allow(client, method, path, allow):
    response = client.request(method, path)

    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"amount": 1,}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_400(client, user, raw):
    headers = {**bearer(user.id), "content-type": "application/json"}

    response = client.post(SPEND, content=raw, headers=headers)

    error = assert_error(response, 400, "invalid_request")
    assert (error["field"], error["message"]) == ("body", "body: is not valid JSON")


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"", "application/json"),
        (b"amount=1", "application/x-www-form-urlencoded"),
        (json.dumps(spend_body()).encode(), "text/plain"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, user, raw, content_type):
    headers = {**bearer(user.id), "content-type": content_type}

    response = client.post(SPEND, content=raw, headers=headers)

    assert response.status_code in (400, 422)
    assert assert_error(response, response.status_code, "invalid_request")["field"] == "body"


def test_a_declared_body_over_64_kib_is_413_before_reading(client, user):
    body = {**spend_body(), "padding": "x" * 70_000}

    response = client.post(SPEND, json=body, headers=bearer(user.id))

    assert_error(response, 413, "payload_too_large")


def test_a_streamed_body_over_64_kib_is_413(client, user):
    def chunks():
        yield b'{"amount": 1, "feature": "example-ai", "idempotencyKey": "k", "pad": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    headers = {**bearer(user.id), "content-type": "application/json"}
    response = client.post(SPEND, content=chunks(), headers=headers)

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


def test_a_body_just_under_the_limit_is_read(client, user):
    body = {**spend_body(3), "padding": "x" * 60_000}

    response = client.post(SPEND, json=body, headers=bearer(user.id))

    assert response.status_code == 200
    assert response.json()["balance"] == 97


def test_deeply_nested_json_is_refused_not_crashed(client, user):
    raw = b'{"amount": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    headers = {**bearer(user.id), "content-type": "application/json"}

    response = client.post(SPEND, content=raw, headers=headers)

    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] == "invalid_request"


def test_paths_outside_api_are_left_to_reflex(api_settings):
    from credits_app.api import create_api

    api = create_api()
    inner = FastAPI()
    inner.add_api_route("/ping", lambda: {"pong": True})
    api.mount("", inner)

    with TestClient(api) as test_client:
        assert test_client.get("/ping").json() == {"pong": True}
        assert_error(test_client.get("/api/ping"), 404, "not_found")


def test_an_unexpected_exception_is_500_json_without_details(api_settings, caplog):
    from credits_app.api import create_api

    api = create_api()

    def explode():
        raise RuntimeError("secret detail")

    api.add_api_route("/boom", explode)

    with (
        caplog.at_level(logging.ERROR, logger="credits_app.api"),
        TestClient(api, raise_server_exceptions=False) as test_client,
    ):
        response = test_client.get("/boom")

    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and error["message"] == "internal error"
    assert "unhandled error" in caplog.text
