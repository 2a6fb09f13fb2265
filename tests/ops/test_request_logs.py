"""LOG_FORMAT=json: one JSON object per line, each with the id of the request it belongs to."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid

import pytest
from sqlmodel import Session

from credits_app.observability.logs import JsonFormatter
from credits_app.settings import get_settings
from tests.ops.conftest import TestClient
from tests.ops.support import event, signed
from tests.support.factories import make_user

HANDLER = "credits-json"
SERVICE_LOGGER = "credits_app.services.billing.handlers.checkout"


@pytest.fixture
def json_logs(ops_settings, simulated_stripe, monkeypatch):
    """The API app with LOG_FORMAT=json, its log lines going to a buffer the test reads."""
    from credits_app.api import create_api

    monkeypatch.setenv("LOG_FORMAT", "json")
    get_settings.cache_clear()
    app = create_api()
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if h.get_name() == HANDLER]
    buffer = io.StringIO()
    handler.setStream(buffer)
    try:
        with TestClient(app) as client:
            yield client, buffer
    finally:
        root.removeHandler(handler)
        logging.getLogger("credits_app").setLevel(logging.NOTSET)


def _unpriced_checkout(engine) -> dict:
    """A checkout of our Checkout for a price the app does not know: the handler logs it."""
    with Session(engine) as session:
        user = make_user(session).id
    return event(
        "checkout.session.completed",
        {
            "id": f"cs_test_{uuid.uuid4().hex[:12]}",
            "object": "checkout.session",
            "mode": "payment",
            "payment_status": "paid",
            "amount_subtotal": 500,
            "amount_total": 500,
            "currency": "usd",
            "metadata": {"user_id": str(user), "price_id": "price_ops_unknown"},
        },
    )


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_the_request_id_follows_a_request_into_the_service_logs(json_logs, engine):
    client, buffer = json_logs
    checkout = _unpriced_checkout(engine)
    payload, headers = signed(checkout)

    response = client.post(
        "/api/webhooks/stripe", content=payload, headers={**headers, "X-Request-ID": "req-ops-1"}
    )

    assert response.status_code == 503
    assert response.headers["x-request-id"] == "req-ops-1"
    records = _lines(buffer)
    service = [r for r in records if r["logger"] == SERVICE_LOGGER]
    assert service == [
        {
            "time": service[0]["time"],
            "level": "ERROR",
            "logger": SERVICE_LOGGER,
            "message": (
                f"price price_ops_unknown of checkout {checkout['data']['object']['id']} "
                "grants no credits"
            ),
            "request_id": "req-ops-1",
        }
    ]
    # Every line written while the request ran names it.
    assert {r["request_id"] for r in records} == {"req-ops-1"}


def test_a_request_without_a_plain_id_gets_a_new_one(json_logs, engine):
    client, buffer = json_logs
    ids = []
    for sent in (None, "has spaces and ; semicolons", "x" * 129):
        payload, headers = signed(_unpriced_checkout(engine))
        if sent is not None:
            headers["X-Request-ID"] = sent
        response = client.post("/api/webhooks/stripe", content=payload, headers=headers)
        ids.append(response.headers["x-request-id"])

    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids), ids
    assert len(set(ids)) == 3
    logged = [r["request_id"] for r in _lines(buffer) if r["logger"] == SERVICE_LOGGER]
    assert logged == ids


def test_every_api_answer_names_its_request_id(client):
    assert (
        client.get("/api/health", headers={"X-Request-ID": "probe-7"}).headers["x-request-id"]
        == "probe-7"
    )
    missing = client.get("/api/nothing-here", headers={"X-Request-ID": "probe-8"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "probe-8"


def test_text_format_adds_no_handler(ops_settings):
    from credits_app.api import create_api

    create_api()

    assert HANDLER not in [h.get_name() for h in logging.getLogger().handlers]


def test_json_lines_keep_extra_fields_and_exceptions():
    record = logging.makeLogRecord(
        {"name": "credits_app.x", "levelname": "WARNING", "msg": "a %s", "args": ("b",)}
    )
    record.event_id = "evt_1"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "a b"
    assert line["event_id"] == "evt_1"
    assert line["request_id"] is None
    assert line["exception"].splitlines()[-1] == "ValueError: boom"
