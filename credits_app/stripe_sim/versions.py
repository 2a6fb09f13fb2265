"""API versions: which ones the simulator renders, and which events each one sends."""

from __future__ import annotations

import re
from typing import Any

from .errors import invalid

CURRENT = "2026-10-28.endive"
# Versions `/_sim/config` accepts for webhook events. Rendering is decided by the dates of
# the changes below, so each version gets every change made on or before its date.
SUPPORTED = (
    CURRENT,
    "2025-03-31.basil",
    "2024-10-28.acacia",
    "2024-06-20",
    "2022-11-15",
    "2022-08-01",
)
# Changelog 2025-03-31.basil: invoices name their subscription in `parent`, lines carry
# `pricing` and `parent` instead of `price`/`type`/`proration`, `invoice.payment_intent`,
# `charge` and `paid` gave way to invoice payments, periods moved to subscription items.
BASIL = "2025-03-31"
# Changelog 2024-10-28.acacia: `refund.created/updated/failed` are sent for every refund;
# before, only for refunds without a charge (card refunds sent `charge.refund.updated`).
REFUND_EVENTS = "2024-10-28"
# Changelog 2022-11-15: `charge.refunds` is no longer included unless expanded.
CHARGE_REFUNDS_EXPANDABLE = "2022-11-15"

_WELL_FORMED = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?")


def before(version: str, change: str) -> bool:
    """True when `version` predates the change made on `change` (`YYYY-MM-DD`)."""
    return version[:10] < change


def is_current(version: str) -> bool:
    """True when a version renders exactly like the simulator stores objects."""
    return not before(version, CURRENT[:10])


def check_supported(version: Any, param: str = "api_version") -> str:
    """Return a version `/_sim/config` may render events in, or raise a 400."""
    if version not in SUPPORTED:
        raise invalid(
            f"Unsupported API version {version!r}; the simulator renders events in "
            f"{', '.join(SUPPORTED)}.",
            param=param,
        )
    return str(version)


def check_request_version(version: str) -> str:
    """Validate a request's `Stripe-Version` header as Stripe does (400 when malformed)."""
    if not _WELL_FORMED.fullmatch(version):
        raise invalid(f"Invalid Stripe API version: {version}")
    return version


def event_types(event_type: str, obj: dict[str, Any], version: str) -> list[str]:
    """The events a webhook endpoint on `version` receives for one change.

    Before 2024-10-28 a card refund (one with a `charge`) sent no `refund.*` event; a change
    to it was announced as `charge.refund.updated` (changelog 2024-10-28.acacia).
    """
    if event_type.startswith("refund.") and obj.get("charge") and before(version, REFUND_EVENTS):
        return ["charge.refund.updated"] if event_type == "refund.updated" else []
    return [event_type]
