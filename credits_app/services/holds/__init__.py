"""Two-phase spending: reserve credits, then capture the real cost or release them."""

from credits_app.services.holds.errors import (
    AmountExceedsHold,
    HoldExpired,
    HoldNotActive,
    HoldNotFound,
    TooManyHolds,
)
from credits_app.services.holds.expiry import (
    expire_due_holds,
    expire_user_holds,
    sweep_holds_forever,
)
from credits_app.services.holds.queries import (
    HoldRecord,
    HoldView,
    active_holds,
    hold_record,
    save_result,
)
from credits_app.services.holds.reserve import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, reserve
from credits_app.services.holds.results import HoldResult, SettleResult
from credits_app.services.holds.settle import capture, release
from credits_app.services.holds.store import ManagedBy

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "MAX_TTL_SECONDS",
    "AmountExceedsHold",
    "HoldExpired",
    "HoldNotActive",
    "HoldNotFound",
    "HoldRecord",
    "HoldResult",
    "HoldView",
    "ManagedBy",
    "SettleResult",
    "TooManyHolds",
    "active_holds",
    "capture",
    "expire_due_holds",
    "expire_user_holds",
    "hold_record",
    "release",
    "reserve",
    "save_result",
    "sweep_holds_forever",
]
