"""The user's whole ledger as CSV, newest first, for download from the dashboard."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session

from credits_app.services.history import MAX_PAGE, ledger_history
from credits_app.services.ledger_labels import describe

COLUMNS = (
    "id",
    "created_at",
    "kind",
    "description",
    "delta",
    "balance_after",
    "feature",
    "reason",
    "source",
)


def _safe(value: object) -> object:
    """Stop spreadsheet formula injection: text starting with = + - @ is prefixed with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def ledger_csv(*, session: Session, user_id: int) -> str:
    """Return every ledger entry of the user as CSV text with a header row.

    Raises:
        UserNotFound: When the user does not exist.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    before: int | None = None
    while True:
        page = ledger_history(session=session, user_id=user_id, limit=MAX_PAGE, before_id=before)
        for e in page:
            row = (e.id, e.created_at.isoformat(), e.kind, describe(e), e.delta, e.balance_after)
            writer.writerow([*row, *map(_safe, (e.feature or "", e.reason or "", e.source))])
        if len(page) < MAX_PAGE:
            return out.getvalue()
        before = page[-1].id
