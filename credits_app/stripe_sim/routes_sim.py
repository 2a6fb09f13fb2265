"""`/_sim/*` helpers for the simulator itself: health, config, reset, clock, events, deliveries."""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .params import as_int
from .renewals import advance_clock
from .request_log import logged_requests
from .routes_sim_config import seconds
from .sim_web import sim_route
from .simulator import Simulator

Obj = dict[str, Any]


def health(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/health`."""
    del body, path
    return {"ok": True, "now": sim.store.now(), "api_base": sim.config.api_base}


def reset(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/reset`: forget everything and reseed the demo catalogue."""
    del body, path
    sim.reset()
    return {"ok": True, "now": sim.store.now()}


def advance(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/test_clock/advance` `{"seconds": N}` or `{"to": unix_time}`."""
    del path
    if "to" in body:
        seconds = as_int(body["to"], "to") - sim.store.now()
    else:
        seconds = as_int(body.get("seconds"), "seconds")
    return advance_clock(sim, seconds)


def resend(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/events/{id}/resend` (optionally `{"url": ...}`), like `stripe events resend`."""
    event = sim.store.get("event", path["id"])
    url = str(body.get("url") or sim.config.forward_to)
    if not url:
        raise invalid('No webhook URL: set forward_to first or pass {"url": ...}.', "url")
    return sim.events.deliver(event, url)


def requests(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/requests[?path_prefix=/v1/checkout]`: logged `/v1` requests, oldest first."""
    del path
    prefix = str(body.get("path_prefix") or "")
    return {"object": "list", "data": logged_requests(sim.store, prefix)}


def deliveries(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/deliveries[?event=evt_...]`: deliveries with their attempts, oldest first."""
    del path
    return {"object": "list", "data": sim.delivery.summaries(body.get("event") or None)}


def wait(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/deliveries/wait` `{"timeout": s, "event": id?}`: block until deliveries settle.

    Without `event`, waits until nothing is queued or in flight (retries included); with
    it, until every delivery of that event was accepted or given up.
    """
    del path
    event_id = body.get("event") or None
    timeout = min(seconds(body.get("timeout", 10), "timeout"), 300.0)
    drained = sim.delivery.wait(timeout, event_id)
    summaries = sim.delivery.summaries(event_id)
    return {
        "drained": drained,
        "pending": sum(d["pending"] for d in summaries),
        "delivered": sum(d["delivered"] for d in summaries),
        "failed": sum(d["failed"] for d in summaries),
    }


ROUTES = [
    sim_route("/_sim/health", health, "GET", locked=False),
    sim_route("/_sim/requests", requests, "GET"),
    sim_route("/_sim/reset", reset),
    sim_route("/_sim/test_clock/advance", advance),
    sim_route("/_sim/events/{id}/resend", resend),
    sim_route("/_sim/deliveries", deliveries, "GET", locked=False),
    sim_route("/_sim/deliveries/wait", wait, locked=False),
]
