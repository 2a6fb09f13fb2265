"""The webhook log's reading, filters, retention and error texts, on a real database.

Rows are written by the log's own `record_delivery`, at chosen moments; the deliveries
themselves (and re-applying) are exercised end to end in tests/billing/test_webhook_log.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from alembic import command
from credits_app.db import make_engine
from credits_app.migrations import alembic_config, upgrade_database
from credits_app.models import StripeEvent, WebhookDelivery
from credits_app.services.billing import webhook_log
from credits_app.services.billing.webhook_log import (
    DeliveryFilters,
    failure_text,
    list_deliveries,
    parse_filters,
    prune_deliveries,
    record_delivery,
)
from credits_app.services.errors import InvalidRequest, Unavailable
from credits_app.services.holds import sweep_holds_forever
from credits_app.settings import get_settings
from credits_app.state.readable import readable
from tests.support.cli import run_cli
from tests.support.factories import make_user

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _event(event_id: str, event_type: str, object_id: str) -> dict:
    return {
        "id": event_id,
        "type": event_type,
        "created": 1_780_000_000,
        "api_version": "2026-10-28.endive",
        "data": {"object": {"id": object_id}},
    }


def _log(session, event_id: str, event_type: str, object_id: str, outcome: str, at) -> int:
    return record_delivery(
        session=session,
        event=_event(event_id, event_type, object_id),
        outcome=outcome,
        received_at=at,
        duration_ms=12,
        error="boom" if outcome == "failed" else None,
        payload=json.dumps(_event(event_id, event_type, object_id)),
    )


@pytest.fixture
def admin(session) -> int:
    return make_user(session, is_admin=True).id


@pytest.fixture
def logged(session) -> dict[str, int]:
    """Five deliveries over three days, oldest first, by name."""
    rows = [
        ("paid", "evt_1", "invoice.paid", "in_1", "applied", NOW - timedelta(days=2)),
        ("again", "evt_1", "invoice.paid", "in_1", "duplicate", NOW - timedelta(days=1, hours=2)),
        ("cs", "evt_2", "checkout.session.completed", "cs_2", "failed", NOW - timedelta(days=1)),
        ("pi", "evt_3", "payment_intent.succeeded", "pi_3", "ignored", NOW - timedelta(hours=3)),
        ("inv2", "evt_4", "invoice.payment_failed", "in_4", "failed", NOW - timedelta(hours=1)),
    ]
    return {name: _log(session, *rest) for name, *rest in rows}


def _ids(session, admin: int, **filters) -> list[int]:
    page = list_deliveries(
        session=session, admin_user_id=admin, filters=parse_filters(**filters), page_size=100
    )
    return [row.id for row in page.rows]


def test_the_log_lists_newest_first_and_filters(session, admin, logged):
    everything = _ids(session, admin)
    failed = _ids(session, admin, outcome="failed")
    invoices = _ids(session, admin, event_type="INVOICE")
    by_event = _ids(session, admin, search="evt_1")
    by_object = _ids(session, admin, search=" cs_2 ")
    one_day = _ids(session, admin, since="2026-11-28", until="2026-11-28")
    from_a_moment = _ids(session, admin, since="2026-11-29T09:30", until="2026-11-29T12:00Z")
    nothing = _ids(session, admin, event_type="invoice.paid_", outcome="duplicate")

    l = logged  # noqa: E741
    assert everything == [l["inv2"], l["pi"], l["cs"], l["again"], l["paid"]]
    assert failed == [l["inv2"], l["cs"]]
    assert invoices == [l["inv2"], l["again"], l["paid"]]
    assert by_event == [l["again"], l["paid"]]
    assert by_object == [l["cs"]]
    assert one_day == [l["cs"], l["again"]]
    assert from_a_moment == [l["inv2"]]
    assert nothing == []  # `_` is a character of the type, not a LIKE wildcard


def test_a_page_is_bounded_and_says_whether_older_rows_follow(session, admin, logged):
    first = list_deliveries(session=session, admin_user_id=admin, page=1, page_size=2)
    third = list_deliveries(session=session, admin_user_id=admin, page=3, page_size=2)

    assert [r.id for r in first.rows] == [logged["inv2"], logged["pi"]]
    assert first.has_more is True
    assert [r.id for r in third.rows] == [logged["paid"]]
    assert third.has_more is False
    row = first.rows[0]
    assert (row.event_id, row.type, row.object_id, row.outcome, row.error, row.duration_ms) == (
        "evt_4",
        "invoice.payment_failed",
        "in_4",
        "failed",
        "boom",
        12,
    )
    assert (row.received_at, row.can_reapply, row.processed_as) == (
        NOW - timedelta(hours=1),
        True,
        None,
    )
    for page, size in ((0, 10), (1, 0), (1, 101), (1001, 10), ("2", 10)):
        with pytest.raises(InvalidRequest):
            list_deliveries(session=session, admin_user_id=admin, page=page, page_size=size)


def test_a_failed_row_shows_when_its_event_was_processed_since(session, admin, logged):
    session.add(StripeEvent(id="evt_2", type="checkout.session.completed", stripe_created=1))
    session.commit()

    [row] = list_deliveries(
        session=session, admin_user_id=admin, filters=DeliveryFilters(search="evt_2")
    ).rows

    assert (row.outcome, row.processed_as, row.can_reapply) == ("failed", "applied", True)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"outcome": "lost"}, "Outcome must be one of applied, duplicate, ignored, failed."),
        ({"since": "yesterday"}, "Since must be a date (2026-11-29) or a date and time "
         "(2026-11-29T14:30, UTC)."),
        ({"until": "2026-02-30"}, "Until is not a real date; it must be a date (2026-11-29) or "
         "a date and time (2026-11-29T14:30, UTC)."),
        ({"since": "2026-11-29", "until": "2026-11-28"}, "Until must be after since."),
        ({"event_type": "invoice paid"}, "Type must be (part of) an event type, e.g. "
         "invoice.paid."),
        ({"search": "evt_1' OR 1=1"}, "Search must be an event id (evt_...) or an object id "
         "(in_...)."),
    ],
)  # fmt: skip
def test_a_bad_filter_is_a_readable_error(filters, message):
    with pytest.raises(InvalidRequest) as refused:
        parse_filters(**filters)

    assert readable(refused.value) == message


def test_pruning_deletes_only_rows_older_than_the_retention(session, logged):
    session.add(StripeEvent(id="evt_1", type="invoice.paid", stripe_created=1))
    session.commit()

    pruned = prune_deliveries(session=session, older_than_days=1, now=NOW)
    left = session.exec(select(WebhookDelivery.id).order_by(WebhookDelivery.id)).all()

    assert pruned == 2
    assert left == [logged["cs"], logged["pi"], logged["inv2"]]
    assert session.exec(select(StripeEvent.id)).all() == ["evt_1"]
    with pytest.raises(InvalidRequest):
        prune_deliveries(session=session, older_than_days=0, now=NOW)


def test_pruning_a_failed_delivery_keeps_its_reapplication(session, admin, logged):
    reapplied = record_delivery(
        session=session,
        event=_event("evt_2", "checkout.session.completed", "cs_2"),
        outcome="applied",
        received_at=NOW,
        duration_ms=30,
        reapplied_by=admin,
        reapply_of=logged["cs"],
    )

    prune_deliveries(session=session, older_than_days=1, now=NOW + timedelta(hours=1))
    row = session.get(WebhookDelivery, reapplied, populate_existing=True)

    assert session.get(WebhookDelivery, logged["cs"]) is None
    assert (row.outcome, row.reapplied_by, row.reapply_of) == ("applied", admin, None)


def test_the_command_and_the_schedule_prune_by_the_retention(db_url, session, monkeypatch):
    now = datetime.now(UTC)
    for days in (40, 31, 29, 5):
        _log(session, f"evt_{days}", "invoice.paid", "in_1", "applied", now - timedelta(days=days))

    by_default = run_cli(db_url, "prune-webhook-log")
    told = run_cli(db_url, "prune-webhook-log", "--days", "10", "--json")
    refused = run_cli(db_url, "prune-webhook-log", "--days", "0")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("WEBHOOK_LOG_RETENTION_DAYS", "3")
    get_settings.cache_clear()
    monkeypatch.setitem(webhook_log.retention._due, "at", 0.0)
    scheduled = []
    try:
        for seconds in (0.0, 10.0, 3600.0):  # the sweeper's passes, seconds after the first
            scheduled.append(webhook_log.prune_when_due(clock=lambda s=seconds: s))
    finally:
        get_settings.cache_clear()

    assert by_default.stdout == "pruned 2 webhook log row(s) older than 30 day(s)\n"
    assert json.loads(told.stdout) == {"pruned": 1, "days": 10}
    assert refused.returncode == 2
    assert "not a number of days from 1 to 3660: '0'" in refused.stderr
    assert scheduled == [1, None, 0]  # hourly: the second pass was not due
    assert session.exec(select(WebhookDelivery.event_id)).all() == []


def test_settings_keep_the_log_30_days_and_refuse_less_than_one(monkeypatch):
    monkeypatch.delenv("WEBHOOK_LOG_RETENTION_DAYS", raising=False)
    default = get_settings.__wrapped__().webhook_log_retention_days
    monkeypatch.setenv("WEBHOOK_LOG_RETENTION_DAYS", "7")
    seven = get_settings.__wrapped__().webhook_log_retention_days
    monkeypatch.setenv("WEBHOOK_LOG_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="webhook_log_retention_days"):
        get_settings.__wrapped__()

    assert (default, seven) == (30, 7)


def test_an_error_text_is_short_readable_and_holds_no_secret():
    stripe_down = Unavailable("the payment provider at http://127.0.0.1:9 could not be reached")
    leaky = RuntimeError(
        "auth failed for sk_live_abc123XYZ with whsec_0123abcd and Bearer eyJhbGc.x.y "
        "at postgresql://credits:hunter2@db/credits\nsecond line"
    )
    database = IntegrityError("INSERT INTO x VALUES (?)", {"secret": 1}, Exception("UNIQUE failed"))

    assert failure_text(stripe_down) == stripe_down.message
    assert failure_text(leaky) == (
        "RuntimeError: auth failed for [redacted] with [redacted] and [redacted] "
        "at postgresql://credits:[redacted]@db/credits"
    )
    assert failure_text(database) == "database error: UNIQUE failed"
    assert failure_text(ValueError("x" * 900)) == "ValueError: " + "x" * 487 + "…"
    assert len(failure_text(ValueError("x" * 900))) == 500


def test_migration_0011_adds_the_log_and_keeps_processed_events(db_url):
    command.downgrade(alembic_config(db_url), "0010")
    engine = make_engine(db_url)
    try:
        assert "webhook_delivery" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO stripe_event (id, type, stripe_created, processed_at, outcome) "
                    "VALUES ('evt_old', 'invoice.paid', 1, CURRENT_TIMESTAMP, 'applied')"
                )
            )
        upgrade_database(db_url)
        with engine.connect() as conn:
            old = conn.execute(text("SELECT id, outcome, object_id FROM stripe_event")).all()
        columns = {c["name"] for c in inspect(engine).get_columns("webhook_delivery")}
    finally:
        engine.dispose()

    assert [tuple(row) for row in old] == [("evt_old", "applied", None)]
    assert columns == {
        "id", "event_id", "type", "object_id", "api_version", "received_at", "outcome",
        "error", "duration_ms", "payload", "reapplied_by", "reapply_of",
    }  # fmt: skip


def test_the_hold_sweeper_prunes_the_log_hourly_in_the_app(app_settings, session, monkeypatch):
    from credits_app.credits_app import app

    now = datetime.now(UTC)
    _log(session, "evt_old", "invoice.paid", "in_1", "applied", now - timedelta(days=31))
    recent = _log(session, "evt_new", "invoice.paid", "in_1", "applied", now - timedelta(days=29))
    monkeypatch.setitem(webhook_log.retention._due, "at", 0.0)

    async def sweep_briefly() -> None:
        task = asyncio.create_task(
            sweep_holds_forever(interval_seconds=0.05, housekeeping=webhook_log.prune_when_due)
        )
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(sweep_briefly())

    assert session.exec(select(WebhookDelivery.id)).all() == [recent]
    sweepers = [
        task.keywords
        for task in app.get_lifespan_tasks()
        if getattr(task, "func", None) is sweep_holds_forever
    ]
    assert sweepers == [{"housekeeping": webhook_log.prune_when_due}]
