"""Background webhook delivery with signatures, retries and per-attempt records."""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any

import httpx

from .config import SimConfig
from .delivery_attempts import Delivery, post


class DeliveryWorker:
    """Delivers queued events from `config.delivery_workers` threads, oldest first.

    One worker (the default) delivers events in the order they happened; more workers
    deliver concurrently, as real Stripe may, for load tests.

    A failed event is rescheduled after the next configured delay while later events go
    ahead, so one broken event never holds up the rest (as with real Stripe).
    """

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Delivery]] = []
        self._records: list[Delivery] = []
        self._in_flight = 0
        self._generation = 0
        self._stopping = False
        self._threads: dict[int, threading.Thread] = {}

    def start(self) -> None:
        """Start worker threads up to `config.delivery_workers` (at least one)."""
        with self._cond:
            self._stopping = False
            for index in range(self._wanted()):
                if index not in self._threads or not self._threads[index].is_alive():
                    self._threads[index] = thread = threading.Thread(
                        target=self._run, args=(index,), name="stripe-sim-delivery", daemon=True
                    )
                    thread.start()
            # Surplus workers (after `delivery_workers` was lowered) wake up and leave.
            self._cond.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the workers to finish and wait for them."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = list(self._threads.values())
        for thread in threads:
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

    def summaries(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """Every delivery so far (of one event, if given), in creation order."""
        with self._cond:
            return [d.summary() for d in self._records if event_id in (None, d.event_id)]

    def wait(self, timeout: float, event_id: str | None = None) -> bool:
        """Block until nothing (of one event, if given) is queued or in flight.

        Returns:
            False on timeout.
        """
        with self._cond:
            return self._cond.wait_for(lambda: self._idle(event_id), timeout)

    def _idle(self, event_id: str | None = None) -> bool:
        if event_id is None:
            return not self._queue and self._in_flight == 0
        return all(d.delivered or d.failed for d in self._records if d.event_id == event_id)

    def _wanted(self) -> int:
        return max(1, self._config.delivery_workers)

    def _run(self, index: int) -> None:
        with httpx.Client() as client:
            while (job := self._next_job(index)) is not None:
                delivery, generation = job
                attempt = post(client, delivery, self._config.delivery_timeout)
                with self._cond:
                    if generation == self._generation:
                        self._record(delivery, attempt)
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _next_job(self, index: int) -> tuple[Delivery, int] | None:
        with self._cond:
            while not self._stopping:
                if index >= self._wanted():
                    self._threads.pop(index, None)
                    return None
                if self._queue and self._queue[0][0] <= time.monotonic():
                    delivery = heapq.heappop(self._queue)[2]
                    self._in_flight += 1
                    return delivery, self._generation
                wait = self._queue[0][0] - time.monotonic() if self._queue else None
                self._cond.wait(wait)
            return None

    def _record(self, delivery: Delivery, attempt: dict[str, Any]) -> None:
        delivery.attempts.append(attempt)
        status = attempt["status"]
        if status is not None and 200 <= status < 300:
            delivery.delivered = True
            delivery.payload = b""  # resends re-encode the stored event; keep memory flat
            return
        delays = self._config.retry_delays
        retry = len(delivery.attempts) - 1
        if retry >= len(delays):
            delivery.failed = True
            delivery.payload = b""
            return
        delivery.due = time.monotonic() + delays[retry]
        heapq.heappush(self._queue, (delivery.due, delivery.number, delivery))
