"""The dashboard's Export CSV downloads the streamed ledger and leaves the page live."""

from __future__ import annotations

from credits_app.db import engine_for, session_scope
from credits_app.services.ledger_export import ledger_csv
from tests.e2e.helpers import expect_balance, login, new_email
from tests.support.factories import give, make_user


def test_export_csv_downloads_the_whole_ledger_and_the_tab_stays_live(visitor, live_app):
    engine = engine_for(live_app.database_url)
    with session_scope(engine) as session:
        user = make_user(session, email=new_email("export"), credits=5)
        for n in range(30):
            give(session, user.id, 1, reason=f"=gift {n}")
    page = visitor.new_page()
    page.goto("/dashboard")
    login(page, user.email)
    expect_balance(page, 35)

    with page.expect_download() as download:
        page.click("#export-csv")
    path = download.value.path()

    assert download.value.suggested_filename == "credits-ledger.csv"
    with session_scope(engine) as session:
        expected = ledger_csv(session=session, user_id=user.id)
    with open(path, newline="", encoding="utf-8") as saved:
        assert saved.read() == expected
    assert "'=gift 29" in expected
    # The download did not navigate away nor drop the tab's websocket: pushes still arrive.
    with session_scope(engine) as session:
        give(session, user.id, 7)
    expect_balance(page, 42)
