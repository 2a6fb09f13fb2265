"""Where people see lots: admin grants with terms (service and CLI), sign-up credits, the
ledger's labels for expiries and rollovers, the CSV's `lots` column, and the dashboard's
expiry notes. (Restores come from Stripe: tests/billing/test_lots_restores.py.)"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from alembic import command
from credits_app.cli import main as cli
from credits_app.db import make_engine
from credits_app.migrations import alembic_config, upgrade_database
from credits_app.models import CreditLot, EntryKind, LedgerEntry, LotSource, utcnow
from credits_app.services import password_changes, ratelimit, registration
from credits_app.services.accounts import balance_of
from credits_app.services.admin_grants import admin_grant
from credits_app.services.errors import Forbidden, IdempotencyConflict, InvalidRequest
from credits_app.services.history import ledger_history
from credits_app.services.holds import release, reserve
from credits_app.services.holds.expiry import expire_due_lots, expire_user_holds
from credits_app.services.invariants import check_ledger
from credits_app.services.ledger import LotTerms, grant_credits, spend_credits
from credits_app.services.ledger_export import ledger_csv, stream_ledger_csv
from credits_app.services.ledger_labels import describe
from credits_app.services.lots import live_lots
from credits_app.settings import ConfigError, get_settings, load_settings
from credits_app.state.dashboard import expiry_notes, long_day, lot_rows
from tests.support.factories import DEFAULT_PASSWORD, give, make_user

IP = "203.0.113.9"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _key() -> str:
    return f"k-{uuid.uuid4().hex}"


def _lots(session, user_id: int) -> list[CreditLot]:
    query = select(CreditLot).where(CreditLot.user_id == user_id).order_by(CreditLot.id)
    return list(session.exec(query).all())


def _entries(session, user_id: int) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.id)
    return list(session.exec(query).all())


def _grant(session, user_id: int, amount: int, **terms) -> int:
    """Grant a lot on `terms` (effective a day ago); return the lot's id."""
    terms.setdefault("effective_at", utcnow() - DAY)
    grant_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason="setup",
        idempotency_key=_key(),
        terms=LotTerms(**terms),
    )
    return _lots(session, user_id)[-1].id


# --- Admin grants from the page's service -------------------------------------------------


def test_an_admin_grant_makes_a_lot_of_the_category_and_expiry_asked_for(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    ends = (utcnow() + 3 * DAY).replace(microsecond=0)

    result = admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=60,
        reason="beta tester",
        idempotency_key="g-1",
        category="promotional",
        expires_at=ends,
    )

    [lot] = _lots(session, user.id)
    assert result.balance == 60
    assert (lot.amount, lot.category, lot.expires_at, lot.source) == (
        60,
        "promotional",
        ends,
        LotSource.ADMIN,
    )
    assert ledger_history(session=session, user_id=user.id)[0].actor_user_id == admin.id


def test_an_admin_grant_refuses_bad_terms_and_a_changed_replay(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    grant = {
        "session": session,
        "admin_user_id": admin.id,
        "user_id": user.id,
        "amount": 10,
        "reason": "r",
        "idempotency_key": "g-2",
    }
    with pytest.raises(InvalidRequest) as past:
        admin_grant(**grant, expires_at=utcnow() - HOUR)
    with pytest.raises(InvalidRequest) as category:
        admin_grant(**grant, category="free")
    with pytest.raises(Forbidden):
        admin_grant(**{**grant, "admin_user_id": user.id}, category="promotional")
    assert _entries(session, user.id) == []

    ends = (utcnow() + DAY).replace(microsecond=0)
    admin_grant(**grant, expires_at=ends)
    replayed = admin_grant(**grant, expires_at=ends)
    with pytest.raises(IdempotencyConflict) as changed:
        admin_grant(**grant, expires_at=ends + HOUR, category="promotional")

    assert (past.value.field, past.value.reason) == ("expiresAt", "must be in the future")
    assert (category.value.field, category.value.reason) == (
        "category",
        "must be 'paid' or 'promotional'",
    )
    assert replayed.replayed
    assert changed.value.fields == ["category", "expiresAt"]
    assert [lot.amount for lot in _lots(session, user.id)] == [10]


# --- The CLI --------------------------------------------------------------------------------


def test_the_cli_grant_takes_a_category_and_an_expiry(session, app_settings, capsys):
    user = make_user(session)
    ends = (utcnow() + 10 * DAY).replace(microsecond=0)
    at = ends.astimezone(UTC).isoformat()
    base = ["grant", str(user.id), "25", "--reason", "promo", "--json"]

    first = cli([*base, "--key", "c-1", "--category", "promotional", "--expires-at", at])
    first_out = json.loads(capsys.readouterr().out)
    again = cli([*base, "--key", "c-1", "--category", "promotional", "--expires-at", at])
    again_out = json.loads(capsys.readouterr().out)
    started = utcnow()
    after = cli([*base, "--key", "c-2", "--expires-after", "P30D"])
    capsys.readouterr()
    plain = cli(["grant", str(user.id), "5", "--reason", "plain", "--key", "c-3"])
    plain_out = capsys.readouterr().out

    assert (first, again, after, plain) == (0, 0, 0, 0)
    assert first_out["replayed"] is False and again_out["replayed"] is True
    assert (first_out["category"], first_out["expires_at"]) == ("promotional", at)
    assert plain_out.startswith("granted 5 paid credits to user") and "never expires" in plain_out
    lots = _lots(session, user.id)
    assert [(lot.amount, lot.category) for lot in lots] == [
        (25, "promotional"),
        (25, "paid"),
        (5, "paid"),
    ]
    assert lots[0].expires_at == ends and lots[2].expires_at is None
    thirty_days = lots[1].expires_at - lots[1].effective_at
    assert thirty_days == 30 * DAY and lots[1].effective_at >= started - HOUR


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--expires-at", "2031-01-01"], "error: --expires-at: must be an ISO 8601 date and time"),
        (["--expires-at", "2020-01-01T00:00:00Z"], "error: --expires-at: must be in the future"),
        (["--expires-after", "30 days"], "error: --expires-after: must be an ISO 8601 duration"),
        (["--expires-after", "P0D"], "error: --expires-after: must be an ISO 8601 duration"),
    ],
)
def test_the_cli_refuses_a_bad_expiry_in_one_line_and_writes_nothing(
    session, app_settings, capsys, flags, message
):
    user = make_user(session)

    code = cli(["grant", str(user.id), "25", "--reason", "r", "--key", "bad", *flags])

    err = capsys.readouterr().err
    assert code == 1 and err.startswith(message) and err.count("\n") == 1
    assert _entries(session, user.id) == []


def test_the_cli_refuses_an_unknown_category_as_a_usage_error(session, app_settings, capsys):
    user = make_user(session)

    with pytest.raises(SystemExit) as exited:
        cli(["grant", str(user.id), "5", "--reason", "r", "--key", "k", "--category", "gift"])

    assert exited.value.code == 2
    assert "invalid choice: 'gift'" in capsys.readouterr().err
    assert _entries(session, user.id) == []


# --- Sign-up credits ------------------------------------------------------------------------


@pytest.fixture
def signup(app_settings, monkeypatch):
    """50 sign-up credits lasting 30 days, and fresh throttles."""
    monkeypatch.setenv("SIGNUP_CREDITS", "50")
    monkeypatch.setenv("SIGNUP_CREDITS_EXPIRE_AFTER", "P30D")
    get_settings.cache_clear()
    ratelimit.limiter_for.cache_clear()
    yield get_settings()
    ratelimit.limiter_for.cache_clear()


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _register(session, email: str) -> str:
    mail = registration.register(
        session=session, email=email, password=DEFAULT_PASSWORD, client_ip=IP
    )
    return _token(mail.link)


def test_sign_up_credits_come_when_the_address_is_confirmed_once(session, signup):
    token = _register(session, "ada@example.com")
    unconfirmed = session.exec(select(LedgerEntry)).all()

    before = utcnow()
    user = registration.verify_email(session=session, token=token)
    # Confirming again through a reset link later grants nothing more.
    mail = password_changes.request_reset(session=session, email="ada@example.com", client_ip=IP)
    password_changes.reset_password(
        session=session, token=_token(mail.link), password="a-brand-new-secret"
    )

    assert unconfirmed == []
    [entry] = _entries(session, user.id)
    [lot] = _lots(session, user.id)
    assert (entry.kind, entry.amount, entry.source, entry.idempotency_key) == (
        EntryKind.GRANT,
        50,
        "signup",
        f"signup:{user.id}",
    )
    assert describe(ledger_history(session=session, user_id=user.id)[0]) == "Sign-up credits"
    assert (lot.amount, lot.category, lot.source) == (50, "promotional", LotSource.PROMOTION)
    assert lot.expires_at - lot.effective_at == 30 * DAY and lot.effective_at >= before
    assert balance_of(session=session, user_id=user.id).available == 50
    assert check_ledger(session=session) == []


def test_a_reset_link_that_first_confirms_an_address_grants_the_sign_up_credits(session, signup):
    _register(session, "bob@example.com")  # never follows the verification link
    mail = password_changes.request_reset(session=session, email="bob@example.com", client_ip=IP)

    user = password_changes.reset_password(
        session=session, token=_token(mail.link), password="a-brand-new-secret"
    )

    assert [lot.amount for lot in _lots(session, user.id)] == [50]


def test_no_sign_up_credits_when_off_or_for_operator_made_users(session, app_settings):
    ratelimit.limiter_for.cache_clear()
    user = registration.verify_email(session=session, token=_register(session, "c@example.com"))
    operator_made = make_user(session)

    assert get_settings().signup_credits == 0
    assert _entries(session, user.id) == [] and _entries(session, operator_made.id) == []


def test_sign_up_credits_without_a_lifetime_never_expire(session, signup, monkeypatch):
    monkeypatch.delenv("SIGNUP_CREDITS_EXPIRE_AFTER")
    get_settings.cache_clear()

    user = registration.verify_email(session=session, token=_register(session, "d@example.com"))

    [lot] = _lots(session, user.id)
    assert (lot.amount, lot.expires_at) == (50, None)


@pytest.mark.parametrize("value", ["30 days", "P", "P1X", "period", "-P1D"])
def test_a_bad_sign_up_lifetime_stops_startup_naming_the_setting(monkeypatch, value):
    monkeypatch.setenv("SIGNUP_CREDITS", "50")
    monkeypatch.setenv("SIGNUP_CREDITS_EXPIRE_AFTER", value)

    with pytest.raises(ConfigError) as error:
        load_settings()

    assert str(error.value).startswith(f"SIGNUP_CREDITS_EXPIRE_AFTER={value!r} is not an ISO")
    assert "\n" not in str(error.value)


def test_a_good_sign_up_lifetime_is_read_in_canonical_form(monkeypatch):
    monkeypatch.setenv("SIGNUP_CREDITS_EXPIRE_AFTER", " p3m ")

    assert load_settings().signup_credits_expire_after == "P3M"


# --- Ledger labels and the CSV's lots column -------------------------------------------------


def _csv_rows(session, user_id: int) -> dict[int, dict[str, str]]:
    text = ledger_csv(session=session, user_id=user_id)
    return {int(row["id"]): row for row in csv.DictReader(io.StringIO(text))}


def test_expiries_and_rollovers_have_their_own_labels_and_lots(session, app_settings):
    user = make_user(session)
    now = utcnow()
    paid = _grant(session, user.id, 100)
    promo = _grant(session, user.id, 20, category="promotional", expires_at=now + HOUR)
    plan = _grant(
        session,
        user.id,
        100,
        source=LotSource.PLAN_PERIOD,
        expires_at=now + 2 * HOUR,
        rollover_max=40,
    )
    # Burn order: the promotional lot (soonest), then the plan period's, then the paid one.
    spend_credits(
        session=session, user_id=user.id, amount=50, feature="chat", idempotency_key="s-1"
    )
    reserve(
        session=session,
        user_id=user.id,
        amount=5,
        feature="chat",
        idempotency_key="h-1",
        ttl_seconds=60,
        now=now,
    )
    expire_user_holds(session=session, user_id=user.id, now=now + 90 * MINUTE)
    expire_due_lots(session=session, now=now + 3 * HOUR)
    history = list(reversed(ledger_history(session=session, user_id=user.id, with_lots=True)))
    rollover = _lots(session, user.id)[-1].id
    assert [(describe(e), e.delta, e.lots) for e in history] == [
        ("Admin grant", 100, ((paid, 100),)),
        ("Admin grant", 20, ((promo, 20),)),
        ("Admin grant", 100, ((plan, 100),)),
        ("Spent on chat", -50, ((promo, -20), (plan, -30))),
        ("Reserved for chat", 0, ((plan, -5),)),
        ("Reservation expired for chat", 0, ((plan, 5),)),
        (f"Credits expired (lot {plan})", -70, ((plan, -70),)),
        (f"Rolled over from lot {plan}", 40, ((rollover, 40),)),
    ]
    rows = _csv_rows(session, user.id)
    assert [row["lots"] for row in rows.values()] == [
        f"{rollover}:40",
        f"{plan}:-70",
        f"{plan}:5",
        f"{plan}:-5",
        f"{promo}:-20;{plan}:-30",
        f"{plan}:100",
        f"{promo}:20",
        f"{paid}:100",
    ]
    assert rows[history[6].id]["description"] == f"Credits expired (lot {plan})"
    assert history[-1].balance_after == 140
    assert check_ledger(session=session) == []


def test_a_lot_expired_after_a_hold_gave_credits_back_is_named_too(session, app_settings):
    user = make_user(session)
    now = utcnow()
    lot = _grant(session, user.id, 10, expires_at=now + HOUR)
    hold = reserve(
        session=session,
        user_id=user.id,
        amount=10,
        feature="chat",
        idempotency_key="h-2",
        ttl_seconds=3 * 3600,
        now=now,
    )
    release(
        session=session,
        user_id=user.id,
        hold_id=hold.hold_id,
        idempotency_key="r-2",
        now=now + 2 * HOUR,
    )

    newest = ledger_history(session=session, user_id=user.id, with_lots=True)[0]
    assert (newest.kind, newest.source_ref, describe(newest)) == (
        "expire",
        f"lot:{lot}:after:{newest.id - 1}",
        f"Credits expired (lot {lot})",
    )
    assert newest.lots == ((lot, -10),)


def test_the_streamed_export_reads_lots_once_per_page_and_matches_the_whole_csv(
    session, app_settings
):
    user = make_user(session)
    for n in range(7):
        give(session, user.id, n + 1)
    spend_credits(session=session, user_id=user.id, amount=4, feature="chat", idempotency_key="s")

    chunks = list(stream_ledger_csv(user_id=user.id, page_size=3))

    assert "".join(chunks) == ledger_csv(session=session, user_id=user.id)
    assert chunks[0].strip().split(",")[-1] == "lots"
    assert [len(c.splitlines()) for c in chunks] == [1, 3, 3, 2]
    spend_row = next(csv.reader(io.StringIO(chunks[1])))
    first_lot = _lots(session, user.id)[0].id
    assert spend_row[-1] == f"{first_lot}:-1;{first_lot + 1}:-2;{first_lot + 2}:-1"


# --- The dashboard's notes about expiry ------------------------------------------------------


def test_the_dashboard_says_what_expires_next_and_warns_within_seven_days(session, app_settings):
    user = make_user(session, credits=100)
    now = utcnow()
    in_3_days = (now + 3 * DAY + HOUR).replace(minute=0, second=0, microsecond=0)
    in_6_days = now + 6 * DAY
    _grant(session, user.id, 300, category="promotional", expires_at=in_3_days)
    _grant(session, user.id, 1, expires_at=in_3_days)
    _grant(session, user.id, 150, expires_at=in_6_days)
    _grant(session, user.id, 40, expires_at=now + 40 * DAY)

    views = live_lots(session, user.id, now)
    line, banner = expiry_notes(views, now)
    rows = lot_rows(views, now)

    assert line == f"301 credits expire on {long_day(in_3_days)}"
    assert banner == (
        f"451 credits expire within 7 days: 301 of them in 3 days, on {long_day(in_3_days)} "
        f"at {in_3_days:%H:%M} UTC. Use them before they are gone."
    )
    assert [(r["remaining"], r["category"], r["expires"], r["soon"]) for r in rows] == [
        ("300", "Promotional", long_day(in_3_days), "yes"),
        ("1", "Paid", long_day(in_3_days), "yes"),
        ("150", "Paid", long_day(in_6_days), "yes"),
        ("40", "Paid", long_day(now + 40 * DAY), ""),
        ("100", "Paid", "Never", ""),
    ]
    assert rows[0]["what"] == "Admin grant"


def test_no_banner_beyond_seven_days_and_nothing_when_nothing_expires(session, app_settings):
    user = make_user(session, credits=100)
    now = utcnow()

    assert expiry_notes(live_lots(session, user.id, now), now) == ("", "")
    _grant(session, user.id, 1, expires_at=now + 8 * DAY)
    line, banner = expiry_notes(live_lots(session, user.id, now), now)
    assert (line, banner) == (f"1 credit expires on {long_day(now + 8 * DAY)}", "")
    soon = expiry_notes(live_lots(session, user.id, now), now + 8 * DAY - 30 * MINUTE)
    assert soon[1].startswith("1 credit expires within the hour, on ")


def test_long_day_is_the_utc_calendar_day():
    assert long_day(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "31 Dec 2026"
    late_in_tokyo = datetime.fromisoformat("2027-01-01T05:00:00+09:00")
    assert long_day(late_in_tokyo) == "31 Dec 2026"


def test_a_balance_from_before_lots_shows_only_where_it_is_drawn(db_url, app_settings):
    """Migration 0009 made the balance a lot tied to the last old entry: no entry created it."""
    command.downgrade(alembic_config(db_url), "0008")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            stamp = utcnow() - DAY
            if conn.dialect.name == "sqlite":
                stamp = stamp.replace(tzinfo=None).isoformat(sep=" ")
            user_id = conn.execute(
                text(
                    "INSERT INTO app_user (email, password_hash, is_admin, created_at, "
                    "email_verified_at) VALUES ('old@example.com', 'x', false, :at, :at) "
                    "RETURNING id"
                ),
                {"at": stamp},
            ).scalar_one()
            account_id = conn.execute(
                text(
                    "INSERT INTO credit_account (user_id, kind, balance, held, debt, "
                    "created_at, updated_at) VALUES (:user, 'user', 80, 0, 0, :at, :at) "
                    "RETURNING id"
                ),
                {"user": user_id, "at": stamp},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO credit_ledger (account_id, user_id, kind, amount, delta, "
                    "held_delta, debt_delta, balance_after, held_after, debt_after, "
                    "idempotency_key, source, reason, created_at) VALUES (:account, :user, "
                    "'grant', 80, 80, 0, 0, 80, 0, 0, 'old-1', 'admin', 'before lots', :at)"
                ),
                {"account": account_id, "user": user_id, "at": stamp},
            )
    finally:
        engine.dispose()
        upgrade_database(db_url)
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            spend_credits(
                session=session, user_id=user_id, amount=30, feature="chat", idempotency_key="s"
            )
            [lot] = _lots(session, user_id)
            rows = list(_csv_rows(session, user_id).values())
            assert lot.source == LotSource.MIGRATED
            assert [(r["description"], r["delta"], r["lots"]) for r in rows] == [
                ("Spent on chat", "-30", f"{lot.id}:-30"),
                ("Admin grant", "80", ""),
            ]
            assert check_ledger(session=session) == []
    finally:
        engine.dispose()
