"""Gauges read from the database at scrape time: the same number whichever worker answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from credits_app.db import get_engine, read_session
from credits_app.models import CreditHold, HoldStatus, utcnow

logger = logging.getLogger(__name__)
holds = CreditHold.__table__


class HoldGauges(Collector):
    """Active holds and the credits they pin, and holds past their end not yet swept.

    Read from `credit_hold` on each scrape (one indexed query), so they are exact across
    workers and restarts. `credits_database_up` is 0 when that read failed.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges (only `credits_database_up` when the database did not answer)."""
        up = GaugeMetricFamily(
            "credits_database_up", "1 when the scrape could read the database, else 0."
        )
        try:
            live, held, overdue = _hold_counts()
        except Exception as exc:  # a scrape must answer even when the database does not
            logger.warning("metrics: could not read holds: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "credits_active_holds", "Holds reserved and not yet settled or expired.", value=live
        )
        yield GaugeMetricFamily(
            "credits_held_credits", "Credits pinned by those active holds.", value=held
        )
        yield GaugeMetricFamily(
            "credits_overdue_holds",
            "Holds past their expiry not yet released by the sweeper (reads ignore them).",
            value=overdue,
        )


def _hold_counts() -> tuple[int, int, int]:
    """(active holds, credits they hold, active holds past their expiry)."""
    now = utcnow()
    live = holds.c.expires_at > now
    query = select(
        func.count().filter(live),
        func.coalesce(func.sum(holds.c.amount).filter(live), 0),
        func.count().filter(~live),
    ).where(holds.c.status == HoldStatus.ACTIVE)
    with read_session(get_engine()) as session:
        row = session.execute(query).one()
    return int(row[0]), int(row[1]), int(row[2])
