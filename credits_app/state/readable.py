"""Domain errors as sentences a person reads on the page."""

from __future__ import annotations

from credits_app.services.errors import CreditsError, InvalidRequest, RateLimited


def readable(exc: CreditsError) -> str:
    """A sentence for the page: 'password: must be ...' reads 'Password must be ...'."""
    if isinstance(exc, RateLimited):
        minutes = -(-exc.retry_after // 60)
        wait = f"{exc.retry_after} seconds" if exc.retry_after < 60 else f"{minutes} minutes"
        return f"Too many attempts. Try again in {wait}."
    field = getattr(exc, "field", None)
    reason = getattr(exc, "reason", None)
    if field and reason:
        return f"{field.capitalize()} {reason}."
    message = exc.message
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def labelled(exc: CreditsError, labels: dict[str, str]) -> str:
    """A form's error: 'Expiry: must be in the future' (the field's label, then why).

    Errors about no one field read as the message, capitalised.
    """
    if isinstance(exc, InvalidRequest):
        return f"{labels.get(exc.field, exc.field)}: {exc.reason}"
    return exc.message[:1].upper() + exc.message[1:]
