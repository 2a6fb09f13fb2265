"""Errors of AI providers: internal failures, and the error the API answers with."""

from __future__ import annotations

from typing import Any

from credits_app.services.errors import CreditsError


class ProviderError(Exception):
    """A provider could not produce output (internal; the flow turns it into a Failed event).

    Attributes:
        code: `provider_error` or `provider_timeout`.
        retryable: Whether trying again before any output could succeed.
    """

    def __init__(self, message: str, *, code: str = "provider_error", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


# HTTP status per failure code: the provider broke (502) or was too slow (504); the key
# belongs to a run that failed earlier or is still running (409).
FAILURE_STATUS = {
    "provider_error": 502,
    "provider_timeout": 504,
    "hold_expired": 504,
    "already_failed": 409,
    "in_progress": 409,
}


class AiRunFailed(CreditsError):
    """Raised by `run_example` when the run failed; only output it delivered was charged.

    Attributes:
        charged: Credits charged for `result`, the output delivered before it failed (0 when
            there was none: the hold was released).
        unpaid: Credits of that output the user could no longer pay (see `Failed`).
    """

    def __init__(
        self,
        message: str,
        code: str,
        balance: int,
        *,
        charged: int = 0,
        unpaid: int = 0,
        result: str = "",
    ) -> None:
        if "charged" not in message:
            paid = f"{charged} credit(s) were charged for the output delivered"
            message = f"{message}; {paid if charged else 'nothing was charged'}"
        super().__init__(message)
        self.code = code
        self.balance = balance
        self.charged = charged
        self.unpaid = unpaid
        self.result = result
        self.http_status = FAILURE_STATUS.get(code, 502)

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        details: dict[str, Any] = {"charged": self.charged, "balance": self.balance}
        if self.result:
            details["result"] = self.result
        if self.unpaid:
            details["unpaid"] = self.unpaid
        return details
