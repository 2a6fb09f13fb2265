"""`/_sim/*` helpers for the simulator itself: health, config, reset, clock, events, deliveries."""

from __future__ import annotations

from typing import Any

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
        "delivery_workers": config.delivery_workers,
        "async_settle_seconds": config.async_settle_seconds,
        "api_version": config.api_version,
    }


def change_config(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/config`: change delivery settings; they apply to the next event or attempt.

    Fields, all optional: `forward_to`, `webhook_secret`, `retry_delays`, `delivery_workers`,
    `async_settle_seconds`.
    """
    config = sim.config
    if "forward_to" in body:
        config.forward_to = _text(body["forward_to"], "forward_to")
    if body.get("webhook_secret"):
        config.webhook_secret = _text(body["webhook_secret"], "webhook_secret")
    if "retry_delays" in body:
        config.retry_delays = _delays(body["retry_delays"])
    if "async_settle_seconds" in body:
        config.async_settle_seconds = _seconds(body["async_settle_seconds"], "async_settle_seconds")
    if "delivery_workers" in body:
        config.delivery_workers = as_int(body["delivery_workers"], "delivery_workers", minimum=1)
        sim.delivery.start()
    return show_config(sim, body, path)


def _text(value: Any, param: str) -> str:
    if value is not None and not isinstance(value, str):
        raise invalid(f"{param} must be a string.", param)
    return value or ""


def _delays(value: Any) -> tuple[float, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise invalid("retry_delays must be a list of seconds.", "retry_delays")
    return tuple(_seconds(item, "retry_delays") for item in items if str(item).strip())


def _seconds(value: Any, param: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise invalid(f"{param} must be a number of seconds.", param) from None
    if not seconds >= 0:
        raise invalid(f"{param} must not be negative.", param)
    return seconds


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
    timeout = min(_seconds(body.get("timeout", 10), "timeout"), 300.0)
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
    sim_route("/_sim/config", show_config, "GET"),
    sim_route("/_sim/config", change_config),
    sim_route("/_sim/reset", reset),
    sim_route("/_sim/test_clock/advance", advance),
    sim_route("/_sim/events/{id}/resend", resend),
    sim_route("/_sim/deliveries", deliveries, "GET", locked=False),
    sim_route("/_sim/deliveries/wait", wait, locked=False),
]
