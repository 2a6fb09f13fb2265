"""Errors for misusing a hold; each carries the HTTP status the API answers with."""

from __future__ import annotations

from typing import Any

from credits_app.services.errors import CreditsError, NotFound


class HoldNotFound(NotFound):
    """Raised when the hold does not exist or belongs to another user (both look the same)."""

    http_status = 404

    def __init__(self, hold_id: Any) -> None:
        super().__init__(f"no hold with id {hold_id}")
        self.hold_id = hold_id


class HoldNotActive(CreditsError):
    """Raised when a hold was already captured or released and is asked to resolve again."""

    code = "hold_not_active"
    http_status = 409

    def __init__(self, hold_id: int, status: str) -> None:
        super().__init__(f"hold {hold_id} is already {status}; a hold resolves only once")
        self.hold_id = hold_id
        self.status = status

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"holdId": self.hold_id, "status": self.status}


class HoldExpired(CreditsError):
    """Raised when a hold's time ran out: its credits went back to the user, nothing charged."""

    code = "hold_expired"
    http_status = 410

    def __init__(self, hold_id: int) -> None:
        super().__init__(f"hold {hold_id} expired and its credits were released")
        self.hold_id = hold_id

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"holdId": self.hold_id, "status": "expired"}


class AmountExceedsHold(CreditsError):
    """Raised when a capture asks for more than the hold reserved."""

    code = "amount_exceeds_hold"
    http_status = 422

    def __init__(self, hold_id: int, reserved: int, requested: int) -> None:
        super().__init__(
            f"cannot capture {requested} from hold {hold_id}: only {reserved} was reserved"
        )
        self.hold_id = hold_id
        self.reserved = reserved
        self.requested = requested

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"holdId": self.hold_id, "reserved": self.reserved, "requested": self.requested}


class TooManyHolds(CreditsError):
    """Raised when a reserve would exceed MAX_ACTIVE_HOLDS_PER_USER active holds."""

    code = "too_many_holds"
    http_status = 409

    def __init__(self, limit: int, active: int) -> None:
        super().__init__(
            f"too many active holds ({active} of at most {limit}): capture or release one, "
            "or wait for one to expire"
        )
        self.limit = limit
        self.active = active

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"limit": self.limit, "active": self.active}
