"""`python -m credits_app expire-lots`: expires every due lot once, as a real subprocess."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import select

from credits_app.models import EntryKind, LedgerEntry, utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.ledger import LotTerms, grant_credits
from tests.support.cli import assert_check_ok, run_cli
from tests.support.factories import make_user


def test_expire_lots_expires_each_due_lot_once(db_url, session):
    user = make_user(session)
    now = utcnow()
    for key, amount, ends in (("a", 40, now + timedelta(seconds=1)), ("b", 25, None)):
        grant_credits(
            session=session,
            user_id=user.id,
            amount=amount,
            reason=key,
            idempotency_key=key,
            terms=LotTerms(effective_at=now - timedelta(days=1), expires_at=ends),
        )
    # The grant of "a" ends a second after `now`; wait for it through the real clock.
    time.sleep(max(0.0, (now + timedelta(seconds=1) - utcnow()).total_seconds()) + 0.01)

    first = run_cli(db_url, "expire-lots", "--json")
    second = run_cli(db_url, "expire-lots")

    assert first.returncode == 0 and json.loads(first.stdout) == {"expired": 1}
    assert second.returncode == 0 and second.stdout.strip() == "expired 0 lot(s)"
    session.rollback()
    expiries = session.exec(
        select(LedgerEntry.delta).where(LedgerEntry.kind == EntryKind.EXPIRE)
    ).all()
    assert [row[0] for row in expiries] == [-40]
    assert balance_of(session=session, user_id=user.id).balance == 25
    assert_check_ok(db_url)
