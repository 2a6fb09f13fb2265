"""Prune the webhook log past its retention; `stripe_event` (exactly-once keys) is never touched.

The hold sweeper calls `prune_when_due` on every pass and it prunes at most once an hour;
`python -m credits_app prune-webhook-log` prunes now.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from credits_app.db import session_scope
from credits_app.models import WebhookDelivery, utcnow
from credits_app.services.errors import InvalidRequest
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)
deliveries = WebhookDelivery.__table__
# Rows per delete: each batch is one short transaction (on SQLite, a short write lock).
BATCH = 1000
PRUNE_EVERY_SECONDS = 3600.0
_due = {"at": 0.0}
_pruning = threading.Lock()


def prune_deliveries(*, session: Session, older_than_days: int, now: datetime | None = None) -> int:
    """Delete log rows received more than `older_than_days` days before `now`; return how many.

    Raises:
        InvalidRequest: When `older_than_days` is not a whole number of at least 1.
    """
    if type(older_than_days) is not int or older_than_days < 1:
        raise InvalidRequest("older_than_days", "must be a whole number of days, at least 1")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    pruned = 0
    while True:
        ids = select(deliveries.c.id).where(deliveries.c.received_at < cutoff).limit(BATCH)
        batch = list(session.execute(ids).scalars())
        if not batch:
            session.rollback()
            return pruned
        session.execute(delete(deliveries).where(deliveries.c.id.in_(batch)))
        session.commit()
        pruned += len(batch)


def prune_expired_deliveries(now: datetime | None = None) -> int:
    """Prune the log past WEBHOOK_LOG_RETENTION_DAYS; return how many rows went."""
    days = get_settings().webhook_log_retention_days
    with session_scope() as session:
        pruned = prune_deliveries(session=session, older_than_days=days, now=now)
    if pruned:
        logger.info("pruned %d webhook log row(s) older than %d day(s)", pruned, days)
    return pruned


def prune_when_due(clock=time.monotonic) -> int | None:
    """Prune the log if the last prune of this process is an hour old; None when not due."""
    with _pruning:
        if clock() < _due["at"]:
            return None
        _due["at"] = clock() + PRUNE_EVERY_SECONDS
    try:
        return prune_expired_deliveries()
    except Exception:
        _due["at"] = 0.0  # try again on the next pass
        raise
