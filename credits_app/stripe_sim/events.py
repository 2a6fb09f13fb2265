"""The event log: every state change is recorded as a Stripe event and queued for delivery."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .config import SimConfig
from .delivery import DeliveryWorker
from .ids import new_id
from .legacy_shapes import render_event_data
from .store import Store
from .versions import event_types

Obj = dict[str, Any]

_NO_REQUEST: Obj = {"id": None, "idempotency_key": None}
_current_request: ContextVar[Obj | None] = ContextVar("stripe_sim_request", default=None)


@contextmanager
def api_request(request_id: str, idempotency_key: str | None) -> Iterator[None]:
    """Attribute events emitted inside the block to an API request, as Stripe does."""
    token = _current_request.set({"id": request_id, "idempotency_key": idempotency_key})
    try:
        yield
    finally:
        _current_request.reset(token)


def encode_event(event: Obj) -> bytes:
    """Serialise an event exactly as it is sent and signed."""
    return json.dumps(event, indent=2).encode("utf-8")


class EventLog:
    """Creates events and hands them to the delivery worker."""

    def __init__(self, store: Store, config: SimConfig, delivery: DeliveryWorker) -> None:
        self._store = store
        self._config = config
        self._delivery = delivery

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj | None:
        """Record the event(s) a change causes, as a snapshot of `obj`, and queue delivery.

        Like a webhook endpoint, the event is rendered in the configured `api_version`, once,
        when it happens; some versions send another event type, or none (see
        `versions.event_types`).

        Args:
            event_type: E.g. `"invoice.paid"`.
            obj: The object as it is now; it is deep-copied so later changes don't leak in.
            previous: `previous_attributes` for `*.updated` events.

        Returns:
            The (last) stored event, or None when this version sends none.
        """
        version = self._config.api_version
        event = None
        for kind in event_types(event_type, obj, version):
            event = self._record(kind, obj, previous, version)
        return event

    def _record(self, event_type: str, obj: Obj, previous: Obj | None, version: str) -> Obj:
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        forward_to = self._config.forward_to
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": version,
            "created": self._store.now(),
            "data": render_event_data(data, version, self._store),
            "livemode": False,
            "pending_webhooks": 1 if forward_to else 0,
            "request": dict(_current_request.get() or _NO_REQUEST),
            "type": event_type,
        }
        self._store.put(event)
        if forward_to:
            self.deliver(event, forward_to)
        return event

    def deliver(self, event: Obj, url: str) -> Obj:
        """Queue one (re)delivery of a stored event and return its delivery summary."""
        return self._delivery.enqueue(
            event["id"], event["type"], url, encode_event(event), self._config.webhook_secret
        )
