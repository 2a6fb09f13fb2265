"""Prometheus metrics: what the routes count, and one scrape that adds up every worker.

With several workers (`run-prod --workers N`), each worker is its own process with its own
counters. `run-prod` then sets PROMETHEUS_MULTIPROC_DIR to a folder of this run, emptied at
start: prometheus-client keeps each process's values in a file there, and a scrape of
`/metrics`, whichever worker answers it, sums the files. With one process the values live
in memory. Either way the numbers a scrape shows are those of the whole server.

The routes count their own outcome in one `with` block, e.g.::

    with metrics.count_spend() as outcome:
        result = spend_credits(...)
        outcome.set("replay" if result.replayed else "ok")

A domain error leaving the block decides the outcome by its code (`insufficient_credits`
is `insufficient`, `idempotency_conflict` is `conflict`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from credits_app.observability.multiproc import MULTIPROC_ENV, multiprocess_dir
from credits_app.services.errors import CreditsError

# The app's own registry (not the library's global one, which other packages may fill).
REGISTRY = CollectorRegistry()

SPEND_OUTCOMES = ("ok", "insufficient", "replay", "conflict", "error")
HOLD_ACTIONS = ("reserve", "capture", "release")
HOLD_OUTCOMES = (
    "ok",
    "insufficient",
    "replay",
    "conflict",
    "not_active",
    "expired",
    "too_many",
    "error",
)
WEBHOOK_OUTCOMES = ("applied", "duplicate", "ignored", "failed", "rejected")
# The drift kinds `reconcile` reports (docs/reconcile.md); `record_drift` publishes others too.
DRIFT_KINDS = (
    "paid_not_granted",
    "granted_without_payment",
    "amount_mismatch",
    "refund_not_clawed_back",
    "dispute_not_clawed_back",
    "won_not_restored",
    "period_not_granted",
    "duplicate_grant",
)
# Domain error codes and the outcome they count as.
_LEDGER_ERRORS = {
    "insufficient_credits": "insufficient",
    "idempotency_conflict": "conflict",
    "hold_not_active": "not_active",
    "hold_expired": "expired",
    "too_many_holds": "too_many",
}
_WEBHOOK_ERRORS = {"invalid_signature": "rejected"}

SPENDS = Counter(
    "credits_spends",
    "Spend requests by outcome: ok, insufficient (402), replay (same key again), conflict "
    "(same key, other values: 409), error (anything else).",
    ["outcome"],
    registry=REGISTRY,
)
INSUFFICIENT = Counter(
    "credits_insufficient_credits",
    "API answers 402 insufficient_credits, by route (spend, reserve, the example AI).",
    ["route"],
    registry=REGISTRY,
)
HOLDS = Counter(
    "credits_holds",
    "Hold requests by action (reserve, capture, release) and outcome.",
    ["action", "outcome"],
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "credits_webhook_deliveries",
    "Stripe webhook deliveries by outcome: applied, duplicate, ignored (not ours), failed "
    "(5xx: Stripe retries), rejected (bad signature).",
    ["outcome"],
    registry=REGISTRY,
)
HTTP_RESPONSES = Counter(
    "credits_http_responses",
    "API responses by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "credits_http_request_duration_seconds",
    "Time to answer an API request, by route template.",
    ["route"],
    registry=REGISTRY,
)
PUSH_SECONDS = Histogram(
    "credits_live_push_seconds",
    "Time to push a changed balance to a user's open tabs (read it, set the live state).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
DRIFT = Gauge(
    "credits_reconcile_drift",
    "Drift the last reconciliation against Stripe found, by kind (0 when none).",
    ["kind"],
    multiprocess_mode="mostrecent",
    registry=REGISTRY,
)
RECONCILED_AT = Gauge(
    "credits_reconcile_last_run_timestamp_seconds",
    "When the last reconciliation finished (unix time).",
    multiprocess_mode="mostrecent",
    registry=REGISTRY,
)


def _start_series() -> None:
    """Create every known series at 0, so rates and alerts see them before the first event."""
    for outcome in SPEND_OUTCOMES:
        SPENDS.labels(outcome)
    for action in HOLD_ACTIONS:
        for outcome in HOLD_OUTCOMES:
            HOLDS.labels(action, outcome)
    for outcome in WEBHOOK_OUTCOMES:
        WEBHOOKS.labels(outcome)


_start_series()
if not os.environ.get(MULTIPROC_ENV):
    # CPU, memory and open files of this process (one-process mode only: in multiprocess
    # mode a scrape reads the workers' files, not the answering process).
    ProcessCollector(registry=REGISTRY)


class Outcome:
    """The outcome one operation ended with; set by the block, else decided on exit."""

    def __init__(self) -> None:
        """Start without an outcome."""
        self.value: str | None = None

    def set(self, value: str) -> None:
        """Record how the operation ended (e.g. `ok`, `replay`, `applied`)."""
        self.value = value


@contextmanager
def _counting(
    counter: Counter,
    *,
    default: str,
    errors: Mapping[str, str],
    otherwise: str,
    labels: Mapping[str, str] | None = None,
) -> Iterator[Outcome]:
    """Count one operation once: the outcome set in the block, or its error's.

    Args:
        counter: The counter, labelled by `outcome` (and `labels`).
        default: The outcome when the block ends without setting one.
        errors: Domain error codes and the outcome each counts as.
        otherwise: The outcome of any other exception.
        labels: Further labels of the counter.
    """
    outcome = Outcome()
    try:
        yield outcome
    except CreditsError as exc:
        outcome.set(errors.get(exc.code, otherwise))
        raise
    except BaseException:
        outcome.set(otherwise)
        raise
    finally:
        counter.labels(**(labels or {}), outcome=outcome.value or default).inc()


def count_spend() -> AbstractContextManager[Outcome]:
    """Count one spend request (`credits_spends_total{outcome}`)."""
    return _counting(SPENDS, default="ok", errors=_LEDGER_ERRORS, otherwise="error")


def count_hold(action: str) -> AbstractContextManager[Outcome]:
    """Count one reserve, capture or release request (`credits_holds_total`)."""
    labels = {"action": action}
    return _counting(HOLDS, default="ok", errors=_LEDGER_ERRORS, otherwise="error", labels=labels)


def count_webhook() -> AbstractContextManager[Outcome]:
    """Count one Stripe delivery (`credits_webhook_deliveries_total{outcome}`).

    A block that ends without an outcome answered with a failure (Stripe retries): `failed`.
    """
    return _counting(WEBHOOKS, default="failed", errors=_WEBHOOK_ERRORS, otherwise="failed")


@contextmanager
def timing_push() -> Iterator[None]:
    """Time one live push of a balance (`credits_live_push_seconds`)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        PUSH_SECONDS.observe(time.perf_counter() - started)


def record_drift(found: Mapping[str, int], *, finished_at: float | None = None) -> None:
    """Publish what a reconciliation found: each kind's count, 0 for kinds it did not find.

    Call it after each run (the scheduled one, the admin page's); a kind not in
    `DRIFT_KINDS` is published too. With several workers the most recent run's values win.
    """
    for kind in {*DRIFT_KINDS, *found}:
        DRIFT.labels(kind).set(found.get(kind, 0))
    RECONCILED_AT.set(time.time() if finished_at is None else finished_at)


def scrape(*extra: object) -> bytes:
    """Render every metric in Prometheus' text format, summed over all worker processes.

    Args:
        *extra: More collectors to include (e.g. gauges read from the database).
    """
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))
    else:
        registry.register(REGISTRY)
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)
