"""The admin user pages' reads: user search, one user's credits and ledger, an entry's trace.

The services run on SQLite and PostgreSQL; the state's row builders turn their answers into
what the pages show (what a browser sees is tested in tests/e2e/test_admin_users.py, the
money side with the Stripe simulator in tests/billing/test_admin_user_page.py).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from credits_app.models import CreditHold, CreditLot, LedgerEntry, User, utcnow
from credits_app.services.admin_grants import admin_grant
from credits_app.services.admin_users import (
    MAX_SEARCH_PAGE,
    search_users,
    trace_entry,
    user_ledger,
    user_overview,
)
from credits_app.services.errors import Forbidden, InvalidRequest, NotFound, UserNotFound
from credits_app.services.holds import capture, reserve
from credits_app.services.ledger import spend_credits
from credits_app.state.admin_users import (
    grant_link,
    ledger_rows,
    overview_view,
    parse_id,
    trace_view,
    user_rows,
)
from credits_app.state.format import when
from tests.support.cli import assert_check_ok
from tests.support.factories import give, make_user


def _emails(found) -> list[str]:
    return [row.email for row in found.rows]


def _search(session, admin, query: object = "", **kwargs):
    return search_users(session=session, admin_user_id=admin.id, query=query, **kwargs)


def test_search_finds_any_part_of_an_email_in_any_case_newest_first(session, app_settings):
    admin = make_user(session, email="root@ops.example", is_admin=True)
    ada = make_user(session, email="ada.lovelace@math.example", credits=30)
    grace = make_user(session, email="grace@navy.example")
    lovelace2 = make_user(session, email="b_lovelace@math.example")

    assert _emails(_search(session, admin, "LoveLace")) == [lovelace2.email, ada.email]
    assert _emails(_search(session, admin, "  MATH.example ")) == [lovelace2.email, ada.email]
    # LIKE's wildcards are plain characters: "_" finds only the address that has one.
    assert _emails(_search(session, admin, "_")) == [lovelace2.email]
    assert _emails(_search(session, admin, "%")) == []
    assert _emails(_search(session, admin, "nobody")) == []
    everyone = _search(session, admin)
    assert _emails(everyone) == [lovelace2.email, grace.email, ada.email, admin.email]
    assert everyone.more is False
    rows = user_rows(everyone)
    assert rows[2] == {
        "id": str(ada.id),
        "email": ada.email,
        "balance": "30",
        "available": "30",
        "admin": "",
        "verified": "yes",
        "created": when(ada.created_at),
        "href": f"/admin/users/{ada.id}",
        "exact": "",
    }
    assert (rows[3]["admin"], rows[3]["href"]) == ("yes", f"/admin/users/{admin.id}")


def test_an_id_finds_that_user_first_then_emails_that_contain_it(session, app_settings):
    admin = make_user(session, email="root@ops.example", is_admin=True)
    users = [make_user(session, email=f"{name}@example.com") for name in ("ann", "bob", "cy")]
    target = users[0]
    numbered = make_user(session, email=f"agent{target.id}x@example.com")

    found = _search(session, admin, str(target.id))

    assert [row.id for row in found.rows] == [target.id, numbered.id]
    assert found.exact_id == target.id
    assert [r["exact"] for r in user_rows(found)] == ["yes", ""]
    # An id nobody has is just text to look for; one beyond the id column finds nothing.
    assert _emails(_search(session, admin, "999999")) == []
    assert _emails(_search(session, admin, str(2**40))) == []


def test_the_list_is_paged_newest_first_and_each_page_is_bounded(session, app_settings):
    admin = make_user(session, email="root@ops.example", is_admin=True)
    users = [make_user(session, email=f"page-{letter}@example.com") for letter in "abcdefg"]
    newest_first = [u.id for u in reversed(users)] + [admin.id]

    pages, before = [], None
    while True:
        page = _search(session, admin, limit=3, before_id=before)
        pages.append(([row.id for row in page.rows], page.more))
        if not page.more:
            break
        before = page.rows[-1].id

    assert pages == [
        (newest_first[0:3], True),
        (newest_first[3:6], True),
        (newest_first[6:8], False),
    ]
    # An id query's own user comes on top of the first page only.
    assert _search(session, admin, "page", limit=3).more is True
    first = _search(session, admin, str(users[0].id), limit=1)
    assert ([row.id for row in first.rows], first.more) == ([users[0].id], False)
    again = _search(session, admin, str(users[0].id), limit=1, before_id=users[0].id + 1)
    assert again.rows == []


@pytest.mark.parametrize(
    ("query", "kwargs", "field"),
    [
        ("x" * 321, {}, "query"),
        ("ada\x00@example.com", {}, "query"),
        ("tab\there", {}, "query"),
        (42, {}, "query"),
        (None, {}, "query"),
        ("", {"limit": 0}, "limit"),
        ("", {"limit": MAX_SEARCH_PAGE + 1}, "limit"),
        ("", {"limit": "5"}, "limit"),
        ("", {"limit": True}, "limit"),
        ("", {"before_id": 0}, "before_id"),
        ("", {"before_id": "12"}, "before_id"),
    ],
)
def test_bad_search_input_is_refused_with_the_field_named(
    session, app_settings, query, kwargs, field
):
    admin = make_user(session, is_admin=True)
    with pytest.raises(InvalidRequest) as refused:
        _search(session, admin, query, **kwargs)
    assert refused.value.field == field


def test_a_full_page_of_the_longest_query_still_answers(session, app_settings):
    admin = make_user(session, email="root@ops.example", is_admin=True)
    found = _search(session, admin, "a" * 320, limit=MAX_SEARCH_PAGE)
    assert (found.rows, found.more) == ([], False)


def test_non_admins_read_nothing(session, app_settings):
    user = make_user(session, credits=10)
    entry_id = session.exec(select(LedgerEntry.id)).one()
    for read in (
        lambda: search_users(session=session, admin_user_id=user.id),
        lambda: user_overview(session=session, admin_user_id=user.id, user_id=user.id),
        lambda: user_ledger(session=session, admin_user_id=user.id, user_id=user.id),
        lambda: trace_entry(session=session, admin_user_id=user.id, entry_id=entry_id),
    ):
        with pytest.raises(Forbidden):
            read()
    with pytest.raises(UserNotFound):  # no acting user at all (a tab whose session died)
        search_users(session=session, admin_user_id=999_999)


@pytest.mark.parametrize("user_id", [999_999, 0, -4, 2**40, "7", 7.0, None])
def test_an_unknown_or_malformed_user_is_not_found(session, app_settings, user_id):
    admin = make_user(session, is_admin=True)
    with pytest.raises(UserNotFound):
        user_overview(session=session, admin_user_id=admin.id, user_id=user_id)
    with pytest.raises(UserNotFound):
        user_ledger(session=session, admin_user_id=admin.id, user_id=user_id)


@pytest.mark.parametrize("entry_id", [999_999, 0, -1, 2**63, "1", None])
def test_an_unknown_or_malformed_entry_is_not_found(session, app_settings, entry_id):
    admin = make_user(session, is_admin=True, credits=5)
    with pytest.raises(NotFound):
        trace_entry(session=session, admin_user_id=admin.id, entry_id=entry_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), ("1", 1), ("0", None), ("-3", None), ("abc", None), ("4 2", None),
     ("²", None), ("", None), (str(2**31), None), (str(2**31 - 1), 2**31 - 1), (None, None)],
)  # fmt: skip
def test_route_ids_are_plain_positive_numbers_within_the_column(text, expected):
    assert parse_id(text, 2**31 - 1) == expected


def test_the_user_page_shows_exact_balance_lots_holds_and_the_admins_in_the_ledger(
    session, db_url, app_settings
):
    admin = make_user(session, email="root@ops.example", is_admin=True)
    user = make_user(session, email="ada@example.com")
    give(session, user.id, 100, reason="opening balance")
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    granted = admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=40,
        reason="outage goodwill",
        idempotency_key="admin-1",
        category="promotional",
        expires_at=expires,
    )
    spent = spend_credits(
        session=session, user_id=user.id, amount=15, feature="chat", idempotency_key="s-1"
    )
    hold = reserve(
        session=session, user_id=user.id, amount=25, feature="summarize", idempotency_key="h-1"
    )
    lots = session.exec(select(CreditLot).order_by(CreditLot.id)).all()
    entries = session.exec(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    held = session.get(CreditHold, hold.hold_id)

    found = user_overview(session=session, admin_user_id=admin.id, user_id=user.id)
    view = overview_view(found)

    # 140 granted, 15 spent (from the promotional lot, it expires first), 25 held.
    assert (found.balance.balance, found.balance.held, found.balance.available) == (125, 25, 100)
    assert view["balance"] == {
        "balance": "125",
        "available": "100",
        "held": "25",
        "debt": "0",
        "waiting": "0",
    }
    assert view["user"] == {
        "id": str(user.id),
        "email": "ada@example.com",
        "admin": "",
        "verified": "yes",
        "created": when(user.created_at),
        "grant": "/admin/grant?email=ada@example.com",
        "customer": "",
        "customer_url": "",
        "mode": "test",
    }
    # The promotional lot went first (it expires): 15 spent, the hold pinned the other 25.
    assert view["lots"] == [
        {
            "id": str(lots[0].id),
            "what": "Admin grant",
            "remaining": "100",
            "amount": "100",
            "category": "Paid",
            "starts": when(lots[0].effective_at),
            "expires": "Never",
        }
    ]
    assert [(lot.amount, lot.remaining, lot.category) for lot in lots] == [
        (100, 100, "paid"),
        (40, 0, "promotional"),
    ]
    assert view["holds"] == [
        {
            "id": str(hold.hold_id),
            "what": "API reservation",
            "feature": "summarize",
            "amount": "25",
            "created": when(held.created_at),
            "expires": when(held.expires_at),
            "href": f"/admin/entries/{entries[-1].id}",
        }
    ]
    assert (view["subscriptions"], view["payments"], view["lots_hidden"]) == ([], [], 0)

    rows = ledger_rows(user_ledger(session=session, admin_user_id=admin.id, user_id=user.id))
    shown = [(r["what"], r["reason"], r["delta"], r["balance"], r["by"], r["href"]) for r in rows]
    assert shown == [
        ("Reserved for summarize", "", "0", "125", "hold", f"/admin/entries/{entries[3].id}"),
        ("Spent on chat", "", "-15", "125", "api", f"/admin/entries/{spent.entry_id}"),
        ("Admin grant", "outage goodwill", "+40", "140", admin.email,
         f"/admin/entries/{granted.entry_id}"),
        ("Admin grant", "opening balance", "+100", "100", "admin",
         f"/admin/entries/{entries[0].id}"),
    ]  # fmt: skip
    assert_check_ok(db_url)


def test_the_ledger_pages_newest_first(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session)
    for n in range(5):
        give(session, user.id, n + 1, reason=f"grant {n}")

    first = user_ledger(session=session, admin_user_id=admin.id, user_id=user.id, limit=2)
    second = user_ledger(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        limit=2,
        before_id=first.entries[-1].id,
    )
    last = user_ledger(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        limit=2,
        before_id=second.entries[-1].id,
    )

    assert [([e.reason for e in p.entries], p.more) for p in (first, second, last)] == [
        (["grant 4", "grant 3"], True),
        (["grant 2", "grant 1"], True),
        (["grant 0"], False),
    ]
    with pytest.raises(InvalidRequest):
        user_ledger(session=session, admin_user_id=admin.id, user_id=user.id, limit=101)


def test_an_admin_grant_traces_to_the_admin_and_reason_and_its_lot(session, app_settings):
    admin = make_user(session, email="root@ops.example", is_admin=True)
    user = make_user(session, email="ada@example.com")
    granted = admin_grant(
        session=session,
        admin_user_id=admin.id,
        user_id=user.id,
        amount=250,
        reason="goodwill for the outage",
        idempotency_key="ops-admin-1",
        category="promotional",
    )
    lot = session.exec(select(CreditLot).where(CreditLot.entry_id == granted.entry_id)).one()
    entry = session.get(LedgerEntry, granted.entry_id)

    view = trace_view(trace_entry(session=session, admin_user_id=admin.id, entry_id=entry.id))

    assert view == {
        "number": str(entry.id),
        "label": "Admin grant",
        "facts": [
            {"label": "Kind", "value": "grant of 250 credits"},
            {"label": "Change", "value": "+250"},
            {"label": "Balance after", "value": "250"},
            {"label": "Held after", "value": "0"},
            {"label": "Debt after", "value": "0"},
            {"label": "When", "value": when(entry.created_at)},
            {"label": "Reason", "value": "goodwill for the outage"},
            {"label": "Feature", "value": "—"},
            {"label": "Source", "value": "admin"},
            {"label": "Idempotency key", "value": "ops-admin-1"},
        ],
        "user_email": "ada@example.com",
        "user_href": f"/admin/users/{user.id}",
        "stripe": [],
        "stripe_mode": "test",
        "money": "",
        "events": [],
        "granted_via": "admin page",
        "granted_email": "root@ops.example",
        "granted_href": f"/admin/users/{admin.id}",
        "hold": [],
        "lots_created": [
            {"id": str(lot.id), "text": "250 promotional (admin), 250 left, expires never"}
        ],
        "lots_moved": [],
        "hold_lots": [],
    }


def test_a_capture_traces_to_its_hold_and_the_lots_it_took(session, app_settings):
    admin = make_user(session, is_admin=True)
    user = make_user(session, credits=100)
    hold = reserve(
        session=session, user_id=user.id, amount=20, feature="chat", idempotency_key="job-1"
    )
    done = capture(
        session=session, user_id=user.id, hold_id=hold.hold_id, amount=12, idempotency_key="c-1"
    )
    [lot] = session.exec(select(CreditLot).where(CreditLot.user_id == user.id)).all()

    view = trace_view(trace_entry(session=session, admin_user_id=admin.id, entry_id=done.entry_id))

    assert view["label"] == "Charged on chat"
    hold_facts = {fact["label"]: fact["value"] for fact in view["hold"]}
    assert hold_facts["Hold"] == f"#{hold.hold_id} (API reservation)"
    assert (hold_facts["Reserved"], hold_facts["Captured"], hold_facts["Status"]) == (
        "20",
        "12",
        "captured",
    )
    assert view["lots_moved"] == [{"id": str(lot.id), "category": "paid", "amount": "+8"}]
    assert view["hold_lots"] == [{"id": str(lot.id), "category": "paid", "amount": "-12"}]
    assert view["granted_via"] == ""


def test_the_grant_link_carries_the_email():
    assert grant_link("a+b@example.com") == "/admin/grant?email=a%2Bb@example.com"


def test_admin_flags_come_from_the_stored_flag_only(session, app_settings):
    admin = make_user(session, is_admin=True)
    demoted = make_user(session, is_admin=True)
    session.get(User, demoted.id).is_admin = False
    session.commit()
    with pytest.raises(Forbidden):
        search_users(session=session, admin_user_id=demoted.id, query=uuid.uuid4().hex)
    assert _emails(_search(session, admin, demoted.email)) == [demoted.email]
