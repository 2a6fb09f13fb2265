"""Domain errors as sentences a person reads on the page."""

from __future__ import annotations

from credits_app.services.errors import CreditsError, RateLimited


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
