"""Clients that spend with fixed keys and retry each key until it gets a final answer."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.runtime.helpers import FEATURE

FINAL = (200, 402)


@dataclass
class Outcome:
    """What clients saw, shared by all their threads.

    Attributes:
        acked: key -> (amount, entryId) of every key that got a 200.
        statuses: How often each status (or "timeout"/"conn") was seen.
        bodies: Error codes seen per status, e.g. {503: Counter({"unavailable": 12})}.
    """

    acked: dict[str, tuple[int, int]] = field(default_factory=dict)
    entry_ids: dict[str, set[int]] = field(default_factory=dict)
    replays: int = 0
    statuses: Counter = field(default_factory=Counter)
    codes: dict[object, Counter] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, amount: int, status: object, body: dict) -> None:
        """Remember one response."""
        with self.lock:
            self.statuses[status] += 1
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            self.codes.setdefault(status, Counter())[code] += 1
            if status == 200:
                self.acked[key] = (amount, body["entryId"])
                self.entry_ids.setdefault(key, set()).add(body["entryId"])
                self.replays += bool(body.get("replayed"))


class Storm:
    """Threads that each spend a list of keys, retrying a key until 200 or 402."""

    def __init__(self, url: str, token: str, keys_per_client: list[list[tuple[str, int]]]):
        self.url = url
        self.token = token
        self.plan = keys_per_client
        self.outcome = Outcome()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._client, args=(keys,), daemon=True) for keys in self.plan
        ]

    def start(self) -> Storm:
        """Start every client thread."""
        for thread in self.threads:
            thread.start()
        return self

    def join(self, timeout: float = 240.0) -> None:
        """Wait for every client to finish its keys."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.stop.set()
        assert not any(t.is_alive() for t in self.threads), "clients did not finish in time"

    def _client(self, keys: list[tuple[str, int]]) -> None:
        with httpx.Client(base_url=self.url, timeout=15.0) as client:
            for key, amount in keys:
                while not self.stop.is_set():
                    status, body = self._attempt(client, key, amount)
                    self.outcome.record(key, amount, status, body)
                    if status in FINAL:
                        break
                    time.sleep(random.uniform(0.05, 0.2))

    def _attempt(self, client: httpx.Client, key: str, amount: int) -> tuple[object, dict]:
        try:
            response = client.post(
                "/api/credits/spend",
                json={"amount": amount, "feature": FEATURE, "idempotencyKey": key},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.TimeoutException:
            return "timeout", {}
        except httpx.TransportError:
            return "conn", {}
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {}


def plan(clients: int, keys_each: int, prefix: str) -> list[list[tuple[str, int]]]:
    """Keys and amounts (1-3) for each client; keys are unique across clients."""
    rng = random.Random(prefix)
    return [
        [(f"{prefix}-{c}-{i}", rng.randint(1, 3)) for i in range(keys_each)] for c in range(clients)
    ]
