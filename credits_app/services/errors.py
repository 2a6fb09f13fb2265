"""Domain errors, raised by services and translated at each edge (HTTP, UI, CLI)."""

from __future__ import annotations

from typing import Any


class CreditsError(Exception):
    """Base of every error a service raises on purpose.

    Attributes:
        code: A stable machine-readable code, used as the API's `error.code`.
        message: A sentence a person can read.
    """

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, Any]:
        """Extra machine-readable fields for the API error body."""
        return {}


class InvalidRequest(CreditsError):
    """Raised when an input is malformed or out of range; nothing was written."""

    code = "invalid_request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"field": self.field}


class InvalidAmount(InvalidRequest):
    """Raised when a credit amount is not an integer within 1..10^9."""


class NotFound(CreditsError):
    """Raised when the thing asked for does not exist (or is not the caller's to see)."""

    code = "not_found"


class UserNotFound(NotFound):
    """Raised when no user has the given id or email."""


class InsufficientCredits(CreditsError):
    """Raised when a spend or reserve asks for more than the available balance."""

    code = "insufficient_credits"

    def __init__(self, available: int, required: int) -> None:
        super().__init__(f"insufficient credits: {available} available, {required} required")
        self.balance = available
        self.required = required

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"balance": self.balance, "required": self.required}


class IdempotencyConflict(CreditsError):
    """Raised when an idempotency key is reused for a different request."""

    code = "idempotency_conflict"

    def __init__(self, key: str, fields: list[str]) -> None:
        names = ", ".join(fields)
        super().__init__(f"idempotency key {key!r} was already used with different {names}")
        self.key = key
        self.fields = fields

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"fields": self.fields}


class Unauthorized(CreditsError):
    """Raised when credentials are missing, malformed, expired or forged."""

    code = "unauthorized"


class Forbidden(CreditsError):
    """Raised when valid credentials do not allow this action."""

    code = "forbidden"


class RateLimited(CreditsError):
    """Raised when a caller exceeded its request rate; retry after `retry_after` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after} s")
        self.retry_after = retry_after

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"retryAfter": self.retry_after}


class EmailNotVerified(Unauthorized):
    """Raised when the right password is given for an address that was never confirmed."""

    code = "email_not_verified"

    def __init__(self, user_id: int) -> None:
        super().__init__("confirm your email address first")
        self.user_id = user_id


class InvalidLink(CreditsError):
    """Raised when an email link (verification, password reset) is unknown, used or expired."""

    code = "invalid_link"


class Unavailable(CreditsError):
    """Raised when a dependency (the database, Stripe) cannot be reached; retry later."""

    code = "unavailable"


class LedgerInvariantError(CreditsError):
    """Raised when the ledger is found in a state its invariants forbid."""

    code = "internal"
