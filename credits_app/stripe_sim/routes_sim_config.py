"""`GET`/`POST /_sim/config`: the simulator's settings, changed at runtime."""

from __future__ import annotations

from typing import Any

from .config import PRORATION_BEHAVIORS
from .errors import invalid
from .params import as_int
from .sim_web import sim_route
from .simulator import Simulator
from .versions import check_supported

Obj = dict[str, Any]


def show_config(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`GET /_sim/config`: where events go, how they are signed and rendered.

    The webhook secret is never shown, only whether one is set and a hint to tell it apart
    (`whsec_...` and its last 4 characters): whoever knows it can forge events.
    """
    del body, path
    config = sim.config
    return {
        "api_base": config.api_base,
        "forward_to": config.forward_to,
        "webhook_secret_set": bool(config.webhook_secret),
        "webhook_secret_hint": secret_hint(config.webhook_secret),
        "retry_delays": list(config.retry_delays),
        "delivery_workers": config.delivery_workers,
        "async_settle_seconds": config.async_settle_seconds,
        "api_version": config.api_version,
        "portal_proration_behavior": config.portal_proration_behavior,
    }


def change_config(sim: Simulator, body: Obj, path: dict[str, str]) -> Obj:
    """`POST /_sim/config`: change settings; they apply to the next event or attempt.

    Fields, all optional: `forward_to`, `webhook_secret`, `retry_delays`, `delivery_workers`,
    `async_settle_seconds`, `api_version` (events' version, like a webhook endpoint's) and
    `portal_proration_behavior`. Nothing changes when one of them is invalid (400).
    """
    changes = _parse(body)
    for name, value in changes.items():
        setattr(sim.config, name, value)
    if "delivery_workers" in changes:
        sim.delivery.start()
    return show_config(sim, body, path)


def _parse(body: Obj) -> Obj:
    """Validate every given setting before any of them is applied."""
    changes: Obj = {}
    if "api_version" in body:
        changes["api_version"] = check_supported(body["api_version"])
    if body.get("portal_proration_behavior") is not None:
        behaviour = body["portal_proration_behavior"]
        if behaviour not in PRORATION_BEHAVIORS:
            message = f"portal_proration_behavior must be one of {', '.join(PRORATION_BEHAVIORS)}."
            raise invalid(message, "portal_proration_behavior")
        changes["portal_proration_behavior"] = behaviour
    if "forward_to" in body:
        changes["forward_to"] = _text(body["forward_to"], "forward_to")
    if body.get("webhook_secret"):
        changes["webhook_secret"] = _text(body["webhook_secret"], "webhook_secret")
    if "retry_delays" in body:
        changes["retry_delays"] = _delays(body["retry_delays"])
    if "async_settle_seconds" in body:
        changes["async_settle_seconds"] = seconds(
            body["async_settle_seconds"], "async_settle_seconds"
        )
    if "delivery_workers" in body:
        changes["delivery_workers"] = as_int(
            body["delivery_workers"], "delivery_workers", minimum=1
        )
    return changes


def secret_hint(secret: str) -> str:
    """`whsec_...wxyz`: Stripe's prefix and, for a long enough secret, its last 4 characters."""
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    rest = secret.removeprefix(prefix)
    # A short secret would be half given away by its last characters.
    return f"{prefix}...{rest[-4:] if len(rest) >= 16 else ''}"


def seconds(value: Any, param: str) -> float:
    """A non-negative number of seconds, or a 400 naming `param`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid(f"{param} must be a number of seconds.", param) from None
    if not number >= 0:
        raise invalid(f"{param} must not be negative.", param)
    return number


def _text(value: Any, param: str) -> str:
    if value is not None and not isinstance(value, str):
        raise invalid(f"{param} must be a string.", param)
    return value or ""


def _delays(value: Any) -> tuple[float, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise invalid("retry_delays must be a list of seconds.", "retry_delays")
    return tuple(seconds(item, "retry_delays") for item in items if str(item).strip())


ROUTES = [
    sim_route("/_sim/config", show_config, "GET"),
    sim_route("/_sim/config", change_config),
]
