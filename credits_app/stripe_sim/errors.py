"""Stripe-shaped API errors and the constructors for the cases the simulator produces."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """Raised when a request fails; rendered as Stripe's `{"error": {...}}` body.

    Attributes:
        status: HTTP status code (400, 401, 402, 404, ...).
        body: The contents of the `error` object.
    """

    def __init__(self, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "type": "invalid_request_error"}
        self.body.update({key: value for key, value in fields.items() if value is not None})
        if "code" in self.body:
            self.body.setdefault("doc_url", f"https://stripe.com/docs/error-codes/{fields['code']}")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body Stripe sends for this error."""
        return {"error": dict(self.body)}


def resource_missing(kind: str, object_id: str, param: str | None = "id") -> StripeError:
    """The object does not exist: 404 when looked up by path, 400 when passed as a param."""
    status = 404 if param == "id" else 400
    return StripeError(
        status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A request that Stripe would reject with a 400 `invalid_request_error`."""
    return StripeError(400, message, param=param, code=code)


def missing_param(param: str) -> StripeError:
    """A required parameter was not sent."""
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def card_error(
    message: str, code: str, decline_code: str | None = None, **extra: Any
) -> StripeError:
    """A card payment failed; the SDK raises `stripe.CardError` for it."""
    return StripeError(
        402, message, type="card_error", code=code, decline_code=decline_code, **extra
    )


def authentication(message: str) -> StripeError:
    """The API key is missing, malformed or not allowed here."""
    return StripeError(401, message)


def idempotency_mismatch(key: str) -> StripeError:
    """An idempotency key was reused with different parameters."""
    return StripeError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type="idempotency_error",
    )


def unrecognized_url(method: str, path: str) -> StripeError:
    """No API route matches the request."""
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). This Stripe simulator implements a "
        "subset of the API; see docs/stripe-simulator.md.",
    )
