"""Background webhook delivery with signatures, retries and per-attempt records."""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .config import SimConfig
from .signing import sign_payload

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@dataclass
class Delivery:
    """One event on its way to one URL, with every attempt made so far."""

    number: int
    event_id: str
    event_type: str
    url: str
    payload: bytes
    secret: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    failed: bool = False
    due: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-friendly view for `GET /_sim/deliveries`."""
        last = self.attempts[-1] if self.attempts else {}
        pending = not (self.delivered or self.failed)
        return {
            "id": self.number,
            "event": self.event_id,
            "type": self.event_type,
            "url": self.url,
            "attempt_count": len(self.attempts),
            "attempts": list(self.attempts),
            "last_status": last.get("status"),
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": pending,
            "next_attempt_in": max(0.0, self.due - time.monotonic()) if pending else None,
        }


class DeliveryWorker:
    """Delivers queued events from one thread, oldest first.

    A failed event is rescheduled after the next configured delay while later events go
    ahead, so one broken event never holds up the rest (as with real Stripe).
    """

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Delivery]] = []
        self._records: list[Delivery] = []
        self._in_flight: Delivery | None = None
        self._generation = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread if it is not running."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="stripe-sim-delivery", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to finish and wait for it."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def enqueue(self, event_id: str, event_type: str, url: str, payload: bytes, secret: str):
        """Queue a first delivery attempt and return its summary."""
        with self._cond:
            delivery = Delivery(len(self._records) + 1, event_id, event_type, url, payload, secret)
            self._records.append(delivery)
            heapq.heappush(self._queue, (0.0, delivery.number, delivery))
            self._cond.notify_all()
        self.start()
        return delivery.summary()

    def reset(self) -> None:
        """Drop the queue and the history; an attempt in flight finishes unrecorded."""
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._records.clear()
            self._cond.notify_all()

    def summaries(self) -> list[dict[str, Any]]:
        """Every delivery so far, in creation order."""
        with self._cond:
            return [delivery.summary() for delivery in self._records]

    def wait(self, timeout: float) -> bool:
        """Block until nothing is queued or in flight; return False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    def _idle(self) -> bool:
        return not self._queue and self._in_flight is None

    def _run(self) -> None:
        with httpx.Client() as client:
            while (job := self._next_job()) is not None:
                delivery, generation = job
                attempt = self._attempt(client, delivery)
                with self._cond:
                    if generation == self._generation:
                        self._record(delivery, attempt)
                    self._in_flight = None
                    self._cond.notify_all()

    def _next_job(self) -> tuple[Delivery, int] | None:
        with self._cond:
            while not self._stopping:
                if self._queue and self._queue[0][0] <= time.monotonic():
                    delivery = heapq.heappop(self._queue)[2]
                    self._in_flight = delivery
                    return delivery, self._generation
                wait = self._queue[0][0] - time.monotonic() if self._queue else None
                self._cond.wait(wait)
            return None

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> dict[str, Any]:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": sign_payload(delivery.payload, delivery.secret, timestamp),
        }
        started = time.monotonic()
        attempt: dict[str, Any] = {"attempted_at": timestamp, "status": None, "error": None}
        try:
            response = client.post(
                delivery.url,
                content=delivery.payload,
                headers=headers,
                timeout=self._config.delivery_timeout,
            )
            attempt["status"] = response.status_code
            attempt["response_body"] = response.text[:500]
        except httpx.HTTPError as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
        attempt["duration_ms"] = round((time.monotonic() - started) * 1000)
        return attempt

    def _record(self, delivery: Delivery, attempt: dict[str, Any]) -> None:
        delivery.attempts.append(attempt)
        status = attempt["status"]
        if status is not None and 200 <= status < 300:
            delivery.delivered = True
            return
        delays = self._config.retry_delays
        retry = len(delivery.attempts) - 1
        if retry >= len(delays):
            delivery.failed = True
            return
        delivery.due = time.monotonic() + delays[retry]
        heapq.heappush(self._queue, (delivery.due, delivery.number, delivery))
