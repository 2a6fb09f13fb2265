"""Reconciliation on a schedule: a lifespan task that reports drift in the log, never repairs.

`RECONCILE_EVERY_MINUTES` (default 15, 0 = off) sets how often, `RECONCILE_WINDOW_DAYS`
(default 3) how far back. Repairs stay a decision: `python -m credits_app reconcile --repair`.
Each run also sets the `credits_reconcile_drift{kind}` gauge served at /metrics. Drift an
admin decided about (accepted as intended, or clawed back) is not open: it is neither
counted in the gauge nor logged as a warning.

Every worker runs this task; with several workers (which share Redis), the first to wake in
an interval takes a lease in Redis and only it asks Stripe, so N workers do not list
Stripe N times. Without Redis (one worker) there is nothing to share.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import Counter
from datetime import timedelta

import redis

from credits_app.models import utcnow
from credits_app.observability import metrics
from credits_app.services.billing.reconcile import ReconcileReport, reconcile, with_decisions
from credits_app.services.errors import CreditsError
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)
# The first run waits a little, so a starting app serves pages before it talks to Stripe.
FIRST_RUN_DELAY_SECONDS = 60.0
LOGGED_DRIFT = 50
# Drift is confirmed by a second look this much later (deliveries in flight land meanwhile).
CONFIRM_AFTER_SECONDS = 60.0
LEASE_KEY = "credits:reconcile:lease:{}"  # per database, so two deployments never share one
# A lease lasts most of an interval, so it has run out when the next round's first worker wakes.
LEASE_SHARE = 0.9


def lease_key(database_url: str) -> str:
    """The Redis key of the lease of the deployment on this database."""
    return LEASE_KEY.format(hashlib.sha256(database_url.encode()).hexdigest()[:16])


def take_lease(minutes: float, redis_url: str | None, database_url: str) -> bool:
    """Whether this worker runs this round: it holds the round's lease (or there is no Redis).

    A Redis that cannot be reached lets the round run: reconciling twice costs Stripe calls,
    not reconciling at all hides drift.
    """
    if not redis_url:
        return True
    lasts_ms = max(1, int(minutes * 60_000 * LEASE_SHARE))
    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            key = lease_key(database_url)
            return bool(client.set(key, str(os.getpid()), nx=True, px=lasts_ms))
        finally:
            client.close()
    except redis.RedisError as exc:
        logger.warning("reconciliation lease unavailable (%s); running this round anyway", exc)
        return True


def scheduled_check(confirm_after: float = CONFIRM_AFTER_SECONDS) -> ReconcileReport:
    """Reconcile the configured window once and log what drifts (report only).

    Drift is checked again `confirm_after` seconds later, and only what is still there is
    reported: a payment whose webhook is on its way right now is not an alarm.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    days = get_settings().reconcile_window_days
    report = reconcile(since=utcnow() - timedelta(days=days))
    if not report.ok and confirm_after > 0:
        time.sleep(confirm_after)
        again = reconcile(since=report.since)
        first = {x.key for x in report.drift}
        report = with_decisions(
            ReconcileReport(report.since, [x for x in again.drift if x.key in first], again.checked)
        )
    open_drift = report.open
    metrics.record_drift(Counter(item.kind for item in open_drift))
    if not report.drift:
        logger.info("reconciliation over %d day(s): no drift (%s)", days, report.checked)
        return report
    if report.ok:
        logger.info(
            "reconciliation over %d day(s): no open drift (%d decided by an admin; %s)",
            days,
            len(report.drift),
            report.checked,
        )
        return report
    logger.warning(
        "reconciliation over %d day(s) found %d open drift(s); see `python -m credits_app "
        "reconcile` (docs/reconcile.md)",
        days,
        len(open_drift),
    )
    for item in open_drift[:LOGGED_DRIFT]:
        logger.warning(
            "drift %s %s (user %s, %s): %s",
            item.kind,
            item.object,
            item.user_id,
            "repairable" if item.repairable else "needs an admin",
            item.detail,
        )
    return report


async def reconcile_forever(first_delay: float = FIRST_RUN_DELAY_SECONDS) -> None:
    """Run `scheduled_check` every `RECONCILE_EVERY_MINUTES` until cancelled (a lifespan task).

    Returns at once when the schedule is off (0).
    """
    minutes = get_settings().reconcile_every_minutes
    if minutes <= 0:
        return
    await asyncio.sleep(first_delay)
    while True:
        try:
            settings = get_settings()
            lease = (minutes, settings.redis_url, settings.database_url)
            if await asyncio.to_thread(take_lease, *lease):
                await asyncio.to_thread(scheduled_check)
        except CreditsError as exc:
            logger.warning("reconciliation skipped: %s", exc.message)
        except Exception:
            logger.exception("reconciliation failed; trying again in %d minute(s)", minutes)
        await asyncio.sleep(minutes * 60)
