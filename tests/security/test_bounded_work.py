"""Per-user work is bounded: each finding of the review is replayed and must stay bounded.

- The CSV export streams in pages instead of building the whole ledger in memory.
- The chart is aggregated by the database, and a balance change without usage reads no usage.
- Reserve, capture and release are rate limited by default, and active holds are capped.
- A tab whose socket went away is unlinked from the live balance: 200 dropped sockets of one
  user leave nothing behind.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from credits_app.models import utcnow
from credits_app.services.holds import release, reserve
from credits_app.services.ledger import grant_credits, spend_credits
from credits_app.services.lots import LotTerms
from credits_app.settings import get_settings
from tests.api.conftest import assert_error, bearer, key
from tests.support.factories import give, make_user

PAGE = 50


@contextmanager
def statements_on(table: str):
    """Collect (sql, params, connection) of every statement that names `table`."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if table in statement:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


# --- the CSV export -------------------------------------------------------------------------


def _grants(session, user_id: int, count: int) -> None:
    for n in range(count):
        give(session, user_id, 1, reason=f"grant {n}")


def test_the_export_route_streams_the_ledger_page_by_page(session, app_settings, monkeypatch):
    from credits_app.api import create_api
    from credits_app.services import ledger_export

    monkeypatch.setattr(ledger_export, "MAX_PAGE", PAGE)
    user = make_user(session)
    _grants(session, user.id, 3 * PAGE + 7)
    ticket = ledger_export.export_ticket(user.id)
    api = create_api()
    chunks: list[bytes] = []

    async def call() -> int:
        status = 0
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/api/me/ledger.csv",
            "raw_path": b"/api/me/ledger.csv",
            "query_string": urlencode({"ticket": ticket}).encode(),
            "headers": [],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "scheme": "http",
            "http_version": "1.1",
            "root_path": "",
        }

        received = False

        async def receive():
            nonlocal received
            if received:  # the client stays connected until the response ends
                await asyncio.sleep(3600)
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and message.get("body"):
                chunks.append(message["body"])

        await api(scope, receive, send)
        return status

    with statements_on("credit_ledger") as reads:
        assert asyncio.run(call()) == 200
    rows = b"".join(chunks).decode().splitlines()
    assert len(rows) == 1 + 3 * PAGE + 7
    # One response chunk per page (plus the header row): never the whole ledger at once.
    assert len(chunks) == 1 + 4
    assert max(len(c.decode().splitlines()) for c in chunks) == PAGE
    ledger_reads = [sql for sql, _ in reads if "LIMIT" in sql.upper()]
    assert len(ledger_reads) == 4


# --- the chart ------------------------------------------------------------------------------


def _rows_returned(engine, sql: str, params) -> int:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql, params)
        return len(cursor.fetchall())
    finally:
        raw.close()


def test_the_chart_reads_one_row_per_day_and_feature(session, engine, app_settings):
    from credits_app.services.usage_chart import daily_spend

    user = make_user(session)
    grant_credits(
        session=session,
        user_id=user.id,
        amount=1000,
        reason="test",
        idempotency_key="g",
        terms=LotTerms(effective_at=utcnow() - timedelta(days=3)),
    )
    for n in range(60):
        feature = ("chat", "image")[n % 2]
        when = utcnow() - timedelta(days=n % 3)
        spend_credits(
            session=session,
            user_id=user.id,
            amount=1,
            feature=feature,
            idempotency_key=f"s{n}",
            now=when,
        )

    with statements_on("usage") as reads:
        spend = daily_spend(session=session, user_id=user.id)

    assert spend.total == 60
    assert not [sql for sql, _ in reads if "usage_event" in sql]  # never the raw usage rows
    returned = sum(_rows_returned(engine, sql, params) for sql, params in reads)
    assert returned <= 3 * 2  # days x features, not the 60 usage rows


def test_a_balance_change_without_usage_does_not_recompute_the_chart(session, app_settings):
    from credits_app.services.usage_chart import chart_update

    user = make_user(session, credits=1000)
    spend_credits(session=session, user_id=user.id, amount=3, feature="chat", idempotency_key="s")
    mark, chart = chart_update(session=session, user_id=user.id, seen="")
    assert chart is not None and chart.total == 3

    with statements_on("usage_daily") as reads:
        for n in range(20):  # twenty balance changes, none of them usage
            hold = reserve(
                session=session, user_id=user.id, amount=5, feature="chat", idempotency_key=f"h{n}"
            )
            release(session=session, user_id=user.id, hold_id=hold.hold_id, idempotency_key=f"r{n}")
            mark, chart = chart_update(session=session, user_id=user.id, seen=mark)
            assert chart is None
    assert all("GROUP BY" not in sql.upper() for sql, _ in reads)
    assert len(reads) == 20  # one small check per change

    spend_credits(session=session, user_id=user.id, amount=4, feature="chat", idempotency_key="t")
    _, chart = chart_update(session=session, user_id=user.id, seen=mark)
    assert chart is not None and chart.total == 7


# --- holds and rate limits -------------------------------------------------------------------


@pytest.fixture
def api_client(app_settings):
    from fastapi.testclient import TestClient

    from credits_app.api import create_api
    from credits_app.services import ratelimit

    ratelimit.limiter_for.cache_clear()
    with TestClient(create_api()) as client:
        yield client
    ratelimit.limiter_for.cache_clear()


def test_reserve_and_release_cannot_write_holds_forever(api_client, session, app_settings):
    user = make_user(session, credits=10_000)
    for _ in range(100):
        reserve(
            session=session, user_id=user.id, amount=1, feature="example-ai", idempotency_key=key()
        )

    body = {"amount": 1, "feature": "example-ai", "idempotencyKey": key()}
    refused = api_client.post("/api/credits/reserve", json=body, headers=bearer(user.id))

    assert_error(refused, 409, "too_many_holds")
    defaults = get_settings()
    assert defaults.max_active_holds_per_user == 100
    limits = [defaults.rate_limit_reserve_per_minute, defaults.rate_limit_settle_per_minute]
    assert all(limit > 0 for limit in [*limits, defaults.rate_limit_spend_per_minute])


@pytest.mark.parametrize("action", ["spend", "reserve", "capture", "release"])
def test_each_write_route_is_rate_limited(api_client, session, monkeypatch, action):
    for name in ("SPEND", "RESERVE", "SETTLE"):
        monkeypatch.setenv(f"RATE_LIMIT_{name}_PER_MINUTE", "2")
    get_settings.cache_clear()
    user = make_user(session, credits=10)
    if action in ("spend", "reserve"):
        url, body = f"/api/credits/{action}", {"amount": 1, "feature": "example-ai"}
    else:
        url, body = f"/api/credits/holds/999/{action}", {"amount": 1}
    left = 60 - time.time() % 60
    if left < 3:
        time.sleep(left + 0.1)

    statuses = [
        api_client.post(url, json={**body, "idempotencyKey": key()}, headers=bearer(user.id))
        for _ in range(3)
    ]

    assert [s.status_code for s in statuses][:2] != [429, 429]
    assert_error(statuses[2], 429, "rate_limited")


# --- live links -------------------------------------------------------------------------------

SOCKETS = 200


@pytest.fixture(scope="module")
def live_backend(tmp_path_factory):
    """The app's Reflex backend alone, in this process, on a database of its own."""
    from credits_app.migrations import upgrade_database
    from tests.support.reflex_socket import start_backend

    tmp = tmp_path_factory.mktemp("bounded-live")
    url = f"sqlite:///{tmp / 'credits.db'}"
    upgrade_database(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("DATA_DIR", str(tmp))
        patch.setenv("ACCESS_TOKEN_SECRET", secrets.token_urlsafe(48))
        patch.setenv("REFLEX_STATES_WORKDIR", str(tmp / "states"))
        get_settings.cache_clear()
        with start_backend() as backend_url:
            yield backend_url, url, sys.modules["credits_app.credits_app"].app
    get_settings.cache_clear()


def _logged_in_tab(
    backend_url: str, session_token: str, *, until_loaded: bool = False, token: str | None = None
):
    """A socket that opens /dashboard with the session token in its LocalStorage, as a tab.

    `token` reuses a client token, as a tab reconnecting after its socket dropped does.
    """
    from reflex.state import State

    from credits_app.state.auth import AuthState
    from credits_app.state.dashboard import DashboardState
    from tests.support.reflex_socket import STATE_SUFFIX, ReflexSocket

    tab = ReflexSocket(backend_url, path="/dashboard", **({"token": token} if token else {}))
    storage = {f"{AuthState.get_full_name()}.session_token{STATE_SUFFIX}": session_token}
    done = (AuthState.get_full_name(), "auth_checked", True)
    if until_loaded:
        done = (DashboardState.get_full_name(), "loaded", True)
    tab._emit(f"{State.get_full_name()}.hydrate_and_load", {"vars": storage}, done, 30)
    return tab


def _links(app, user_id: int) -> int:
    """How many client tokens the user's shared live balance would push to."""
    import reflex as rx

    from credits_app.live.balance import LiveBalance, link_token

    async def count() -> int:
        token = rx.BaseStateToken(ident=link_token(user_id), cls=LiveBalance)
        root = await app.state_manager.get_state(token)
        return len((await root.get_state(LiveBalance))._linked_from)

    return asyncio.run(count())


def _received(tab):
    """Apply the updates the backend pushed to this tab since its last event."""
    while not tab._updates.empty():
        tab._apply(tab._updates.get_nowait(), None)
    return tab


def _wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_200_dropped_sockets_leave_no_link_behind(live_backend):
    from credits_app.db import engine_for, session_scope
    from credits_app.live.balance import LiveBalance
    from credits_app.live.tabs import linked_tabs
    from credits_app.services import sessions

    backend_url, database_url, app = live_backend
    with session_scope(engine_for(database_url)) as session:
        user = make_user(session, credits=10)
        session_token = sessions.start_session(session=session, user_id=user.id)
    staying = _logged_in_tab(backend_url, session_token)
    namespace = app.event_namespace

    def sizes() -> tuple[int, int, int]:
        # The user's shared balance's tabs, Reflex's open sockets, this worker's registry.
        return _links(app, user.id), len(namespace.sid_to_token), len(linked_tabs)

    before = sizes()
    assert before == (1, 1, 1)

    def open_and_drop(_: int) -> None:
        _logged_in_tab(backend_url, session_token).close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(open_and_drop, range(SOCKETS)))
    print(f"{SOCKETS} sockets opened and dropped in {time.monotonic() - started:.1f} s")

    assert _wait_for(lambda: sizes() == before), (sizes(), before)
    # The tab that stayed is still linked: a change still reaches it.
    with session_scope(engine_for(database_url)) as session:
        give(session, user.id, 5)
    assert _wait_for(lambda: _received(staying).var(LiveBalance, "balance") == 15)
    staying.close()
    assert _wait_for(lambda: sizes() == (0, 0, 0)), sizes()


def test_a_tab_that_reconnects_is_linked_again(live_backend):
    from credits_app.db import engine_for, session_scope
    from credits_app.live.balance import LiveBalance
    from credits_app.services import sessions

    backend_url, database_url, app = live_backend
    with session_scope(engine_for(database_url)) as session:
        user = make_user(session, credits=10)
        session_token = sessions.start_session(session=session, user_id=user.id)
    tab = _logged_in_tab(backend_url, session_token)
    tab.close()  # a network blip
    assert _wait_for(lambda: _links(app, user.id) == 0)

    back = _logged_in_tab(backend_url, session_token, token=tab.token)

    # Its state says it was logged in already; the page's login check links it again.
    assert _wait_for(lambda: _links(app, user.id) == 1)
    with session_scope(engine_for(database_url)) as session:
        give(session, user.id, 3)
    assert _wait_for(lambda: _received(back).var(LiveBalance, "balance") == 13)
    back.close()


def test_a_live_refresh_without_new_usage_reads_no_usage_rows(live_backend):
    from credits_app.db import engine_for, session_scope
    from credits_app.services import sessions
    from credits_app.state.dashboard import DashboardState

    backend_url, database_url, _app = live_backend
    with session_scope(engine_for(database_url)) as session:
        user = make_user(session, credits=100)
        spend_credits(
            session=session, user_id=user.id, amount=2, feature="chat", idempotency_key="s"
        )
        session_token = sessions.start_session(session=session, user_id=user.id)
    tab = _logged_in_tab(backend_url, session_token, until_loaded=True)

    with statements_on("usage_event") as reads:
        for n in range(4):  # what a browser tab does after each live balance change
            with session_scope(engine_for(database_url)) as session:
                hold = reserve(
                    session=session,
                    user_id=user.id,
                    amount=1,
                    feature="chat",
                    idempotency_key=f"h{n}",
                )
                release(
                    session=session, user_id=user.id, hold_id=hold.hold_id, idempotency_key=f"r{n}"
                )
            tab.send(DashboardState.refresh)
    tab.close()

    row_reads = [sql for sql, _ in reads if "count(" not in sql.lower()]
    assert row_reads == []
    assert len(reads) <= 4
