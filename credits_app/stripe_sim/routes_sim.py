"""`/_sim/*` helpers for the simulator itself: health, config, reset, clock, events, deliveries."""

from __future__ import annotations

from typing import Any

from .config import parse_delays
from .errors import invalid
from .params import as_int
from .renewals import advance_clock
from .sim_web import sim_route
from .simulator import Simulator

Obj = dict[str, Any]


def health(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/health`."""
    del body, path
    return {"ok": True, "now": sim.store.now(), "api_base": sim.config.api_base}


def show_config(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/config`: where events go and how they are signed."""
    del body, path
    config = sim.config
    return {
        "api_base": config.api_base,
        "forward_to": config.forward_to,
        "webhook_secret": config.webhook_secret,
        "retry_delays": list(config.retry_delays),
        "api_version": config.api_version,
    }


def change_config(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/config` `{"forward_to", "webhook_secret", "retry_delays"}` (all optional)."""
    config = sim.config
    if "forward_to" in body:
        config.forward_to = str(body["forward_to"] or "")
    if body.get("webhook_secret"):
        config.webhook_secret = str(body["webhook_secret"])
    if "retry_delays" in body:
        delays = body["retry_delays"]
        config.retry_delays = parse_delays(delays) if isinstance(delays, str) else tuple(delays)
    return show_config(sim, body, path)


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


def deliveries(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/deliveries`: every delivery with its attempts, oldest first."""
    del body, path
    return {"object": "list", "data": sim.delivery.summaries()}


def wait(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/deliveries/wait` `{"timeout": seconds}`: block until the queue drains."""
    del path
    drained = sim.delivery.wait(float(body.get("timeout", 10)))
    summaries = sim.delivery.summaries()
    return {
        "drained": drained,
        "pending": sum(d["pending"] for d in summaries),
        "delivered": sum(d["delivered"] for d in summaries),
        "failed": sum(d["failed"] for d in summaries),
    }


ROUTES = [
    sim_route("/_sim/health", health, "GET", locked=False),
    sim_route("/_sim/config", show_config, "GET"),
    sim_route("/_sim/config", change_config),
    sim_route("/_sim/reset", reset),
    sim_route("/_sim/test_clock/advance", advance),
    sim_route("/_sim/events/{id}/resend", resend),
    sim_route("/_sim/deliveries", deliveries, "GET", locked=False),
    sim_route("/_sim/deliveries/wait", wait, locked=False),
]
