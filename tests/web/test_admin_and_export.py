"""Admin grants record the admin; the CSV export and the chart read the user's own data."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from credits_app.models import UsageEvent, utcnow
from credits_app.services import ledger_export
from credits_app.services.admin_grants import admin_grant
from credits_app.services.errors import Forbidden, InvalidRequest, Unauthorized
from credits_app.services.history import MAX_PAGE, ledger_history
from credits_app.services.ledger import grant_credits, spend_credits
from credits_app.services.ledger_export import (
    export_ticket,
    ledger_csv,
    stream_ledger_csv,
    ticket_user,
)
from credits_app.services.ledger_labels import describe
from credits_app.services.lots import LotTerms
from credits_app.services.purchase_status import credits_from_checkout
from credits_app.services.tokens import generate_access_token, verify_access_token
from credits_app.services.usage_chart import chart_update, daily_spend
from credits_app.settings import get_settings
from tests.support.factories import give, make_user


def test_an_admin_grant_records_the_admin_as_actor(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    result = admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=40,
        reason="goodwill",
        idempotency_key="g-1",
    )
    assert result.balance == 40
    entry = ledger_history(session=session, user_id=user.id)[0]
    assert (entry.actor_user_id, entry.source, entry.reason) == (admin.id, "admin", "goodwill")


def test_non_admins_cannot_grant_and_large_grants_need_confirmation(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    with pytest.raises(Forbidden):
        admin_grant(
            session=session,
            admin_user_id=user.id,
            user_id=user.id,
            amount=5,
            reason="self",
            idempotency_key="g-2",
        )
    big = app_settings.admin_grant_confirm_threshold + 1
    with pytest.raises(InvalidRequest):
        admin_grant(
            session=session,
            admin_user_id=admin.id,
            user_id=user.id,
            amount=big,
            reason="big",
            idempotency_key="g-3",
        )
    assert ledger_history(session=session, user_id=user.id) == []
    admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=big,
        reason="big",
        idempotency_key="g-3",
        confirmed=True,
    )
    assert ledger_history(session=session, user_id=user.id)[0].amount == big


def test_csv_export_has_every_entry_of_the_user_only_and_defuses_formulas(session, app_settings):
    user = make_user(session)
    other = make_user(session, credits=99)
    give(session, user.id, 10, reason='=HYPERLINK("x")')
    spend_credits(session=session, user_id=user.id, amount=3, feature="chat", idempotency_key="s")
    rows = list(csv.DictReader(io.StringIO(ledger_csv(session=session, user_id=user.id))))
    assert [r["delta"] for r in rows] == ["-3", "10"]
    assert rows[0]["description"] == "Spent on chat"
    assert rows[1]["reason"].startswith("'=")
    assert other.email not in ledger_csv(session=session, user_id=user.id)


def _old_ledger_csv(session, user_id: int) -> str:
    """The export as it was built before it streamed: the whole CSV in one string.

    (With the `lots` column the export gained with credit lots.)
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ledger_export.COLUMNS)
    before = None
    while True:
        page = ledger_history(
            session=session, user_id=user_id, limit=MAX_PAGE, before_id=before, with_lots=True
        )
        for e in page:
            row = (e.id, e.created_at.isoformat(), e.kind, describe(e), e.delta, e.balance_after)
            safe = [ledger_export._safe(v) for v in (e.feature or "", e.reason or "", e.source)]
            writer.writerow([*row, *safe, ledger_export.lots_cell(e.lots)])
        if len(page) < MAX_PAGE:
            return out.getvalue()
        before = page[-1].id


def _ledger_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM credit_ledger" in s and "LIMIT" in s.upper()]


def test_the_streamed_export_is_the_old_csv_read_one_page_at_a_time(session, app_settings):
    user = make_user(session)
    other = make_user(session, credits=5)
    for n in range(22):
        give(session, user.id, n + 1, reason=("+1 formula" if n == 3 else f"grant {n}"))
    spend_credits(session=session, user_id=user.id, amount=4, feature="chat", idempotency_key="s")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        chunks = list(stream_ledger_csv(user_id=user.id, page_size=5))
    finally:
        event.remove(Engine, "before_cursor_execute", record)

    assert (
        "".join(chunks)
        == _old_ledger_csv(session, user.id)
        == ledger_csv(session=session, user_id=user.id)
    )
    # 23 entries: the header, then pages of 5, 5, 5, 5 and 3 rows, each read on its own.
    assert [len(c.splitlines()) for c in chunks] == [1, 5, 5, 5, 5, 3]
    assert len(_ledger_reads(statements)) == 5
    assert other.email not in "".join(chunks)


def test_a_ledger_that_fills_its_last_page_ends_with_one_empty_read(session, app_settings):
    user = make_user(session)
    for _ in range(4):
        give(session, user.id, 1)
    chunks = list(stream_ledger_csv(user_id=user.id, page_size=2))
    assert [len(c.splitlines()) for c in chunks] == [1, 2, 2]


def _download(client, ticket: str):
    return client.get("/api/me/ledger.csv", params={"ticket": ticket})


def test_the_export_route_takes_a_fresh_export_ticket_once_and_nothing_else(session, app_settings):
    from fastapi.testclient import TestClient

    from credits_app.api import create_api

    user = make_user(session, credits=7)
    give(session, user.id, 3, reason="=cmd")
    ticket = export_ticket(user.id)
    with TestClient(create_api()) as client:
        ok = _download(client, ticket)
        again = _download(client, ticket)
        access_token = _download(client, generate_access_token(user.id, "example-ai"))
        expired = jwt.encode(
            {"iss": "credits", "aud": "ledger-export", "sub": str(user.id), "exp": 1},
            get_settings().access_token_secret,
        )
        statuses = [
            _download(client, expired).status_code,
            _download(client, "x" * 40).status_code,
            client.get("/api/me/ledger.csv").status_code,
        ]
        as_bearer = client.get(
            "/api/me/entitlements", headers={"Authorization": f"Bearer {export_ticket(user.id)}"}
        )

    assert ok.status_code == 200, ok.text
    assert ok.headers["content-type"].startswith("text/csv")
    assert ok.headers["content-disposition"] == 'attachment; filename="credits-ledger.csv"'
    assert ok.text == ledger_csv(session=session, user_id=user.id)
    assert ok.headers["cache-control"] == "no-store"
    assert again.status_code == 401  # one download per ticket: a URL in a log is spent
    assert access_token.status_code == 401
    assert access_token.json()["error"]["code"] == "unauthorized"
    assert statuses == [401, 401, 422]
    assert as_bearer.status_code == 401  # a ticket is no access token either
    with pytest.raises(Unauthorized):
        verify_access_token(export_ticket(user.id))
    assert ticket_user(export_ticket(user.id)) == user.id


def test_an_export_ticket_lives_a_minute_and_is_used_once(monkeypatch):
    minted_at = time.time() - ledger_export.TICKET_TTL_SECONDS - 5
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: minted_at)
        ticket = export_ticket(42)
    with pytest.raises(Unauthorized):
        ticket_user(ticket)
    fresh = export_ticket(42)
    assert ticket_user(fresh) == 42
    with pytest.raises(Unauthorized):
        ticket_user(fresh)


def _old_daily_spend(session, user_id: int, days: int, today: date) -> tuple[dict, int]:
    """The chart as it was computed before: every usage row summed in Python."""
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    totals: dict[tuple[date, str], int] = {}
    for row in session.exec(
        text("SELECT id FROM usage_event WHERE user_id = :u"), params={"u": user_id}
    ):
        usage = session.get(UsageEvent, row[0])
        if usage.created_at >= since:
            key = (usage.created_at.astimezone(UTC).date(), usage.feature)
            totals[key] = totals.get(key, 0) + usage.credits
    return totals, sum(totals.values())


def _user_since(session, credits: int, since: datetime):
    """A user holding `credits` in a lot spendable from `since` on."""
    user = make_user(session)
    grant_credits(
        session=session,
        user_id=user.id,
        amount=credits,
        reason="test grant",
        idempotency_key=f"since-{user.id}",
        terms=LotTerms(effective_at=since),
        now=since,
    )
    return user


def _spend_at(session, user_id: int, feature: str, amount: int, when: datetime) -> None:
    spend_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        feature=feature,
        idempotency_key=f"{feature}-{when.isoformat()}",
        now=when,
    )


def test_the_chart_sums_known_usage_per_utc_day_exactly_as_before(session, app_settings):
    today = date(2026, 3, 10)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    user = _user_since(session, 1000, since)
    other = _user_since(session, 100, since)
    plus5 = timezone(timedelta(hours=5))
    known = [
        ("chat", 2, datetime(2026, 3, 10, 23, 59, 59, 999000, tzinfo=UTC)),
        ("chat", 3, datetime(2026, 3, 10, 0, 0, tzinfo=UTC)),
        ("image", 5, datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)),
        # 01:30 at UTC+5 is 20:30 UTC the day before.
        ("image", 7, datetime(2026, 3, 10, 1, 30, tzinfo=plus5)),
        ("chat", 11, datetime(2026, 2, 9, 0, 0, tzinfo=UTC)),  # the first day of 30
        ("chat", 13, datetime(2026, 2, 8, 23, 59, 59, tzinfo=UTC)),  # the day before: out
        ("video", 17, datetime(2026, 3, 11, 0, 0, 1, tzinfo=UTC)),  # after today: out
    ]
    for feature, amount, when in known:
        _spend_at(session, user.id, feature, amount, when)
    _spend_at(session, other.id, "chat", 19, datetime(2026, 3, 10, 12, tzinfo=UTC))
    if session.get_bind().dialect.name == "postgresql":
        # Far from UTC, ::date alone would move evening usage to the next day.
        session.connection().execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))

    spend = daily_spend(session=session, user_id=user.id, today=today)

    by_day = {row["day"]: row for row in spend.rows}
    assert len(spend.rows) == 30
    assert (spend.rows[0]["day"], spend.rows[-1]["day"]) == ("Feb 09", "Mar 10")
    assert spend.features == ["chat", "image"]
    assert by_day["Mar 10"] == {"day": "Mar 10", "chat": 5, "image": 0}
    assert by_day["Mar 09"] == {"day": "Mar 09", "chat": 0, "image": 12}
    assert by_day["Feb 09"]["chat"] == 11
    assert spend.total == 2 + 3 + 5 + 7 + 11
    old, old_total = _old_daily_spend(session, user.id, 30, today)
    new = {
        (datetime.strptime(f"{r['day']} 2026", "%b %d %Y").date(), f): r[f]
        for r in spend.rows
        for f in spend.features
        if r[f]
    }
    in_window = {k: v for k, v in old.items() if k[0] <= today}
    assert new == in_window
    assert spend.total == sum(in_window.values()) == old_total - 17


def test_the_chart_is_redrawn_only_after_new_usage(session, app_settings):
    user = make_user(session, credits=100)
    mark, chart = chart_update(session=session, user_id=user.id, seen="")
    assert chart is not None and chart.total == 0
    give(session, user.id, 5)
    assert chart_update(session=session, user_id=user.id, seen=mark) == (mark, None)

    spend_credits(session=session, user_id=user.id, amount=2, feature="chat", idempotency_key="a")
    newer, chart = chart_update(session=session, user_id=user.id, seen=mark)
    assert newer != mark and chart.total == 2
    tomorrow = utcnow().date() + timedelta(days=1)
    moved, chart = chart_update(session=session, user_id=user.id, seen=newer, today=tomorrow)
    assert moved != newer and chart is not None  # a new day redraws the chart


def test_daily_spend_has_30_days_and_sums_per_feature(session, app_settings):
    user = make_user(session, credits=100)
    for key, (feature, amount) in enumerate([("chat", 2), ("chat", 3), ("image", 5)]):
        spend_credits(
            session=session,
            user_id=user.id,
            amount=amount,
            feature=feature,
            idempotency_key=str(key),
        )
    spend = daily_spend(session=session, user_id=user.id)
    assert len(spend.rows) == 30
    assert spend.features == ["chat", "image"]
    assert spend.rows[-1]["chat"] == 5 and spend.rows[-1]["image"] == 5
    assert spend.total == 10
    tomorrow = daily_spend(
        session=session, user_id=user.id, today=utcnow().date() + timedelta(days=40)
    )
    assert tomorrow.total == 0


def test_checkout_credits_are_found_by_session_id(session, app_settings):
    from credits_app.models import StripePurchase, StripePurchaseLine
    from credits_app.services.ledger import post_grant

    user = make_user(session)
    assert credits_from_checkout(session=session, user_id=user.id, checkout_session_id="cs_1") == 0
    # What the webhook records for a paid $5.00 starter pack of 100 credits.
    session.add(
        StripePurchase(
            id="cs_1",
            user_id=user.id,
            kind="checkout",
            currency="usd",
            amount=500,
            amount_paid=500,
            credits=100,
        )
    )
    session.flush()
    session.add(
        StripePurchaseLine(
            purchase_id="cs_1",
            line_ref="price_starter",
            price_id="price_starter",
            amount=500,
            unit_amount=500,
            included_credits=100,
            credits=100,
        )
    )
    post_grant(
        session,
        user_id=user.id,
        amount=100,
        reason="Starter Pack",
        idempotency_key="k",
        source="stripe_checkout",
        source_ref="cs_1",
    )
    session.commit()
    assert (
        credits_from_checkout(session=session, user_id=user.id, checkout_session_id="cs_1") == 100
    )
    stranger = make_user(session)
    assert (
        credits_from_checkout(session=session, user_id=stranger.id, checkout_session_id="cs_1") == 0
    )
