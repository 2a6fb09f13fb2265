"""Write one delivery to the webhook log, in a short transaction of its own.

The log is written after the delivery was processed, never inside the effect's transaction,
and `log_delivery` never raises: a log that cannot be written must not turn a delivery that
was applied into an error (Stripe would retry it for nothing), nor a failure into another.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session

from credits_app.db import session_scope
from credits_app.models import WebhookDelivery
from credits_app.services.billing.webhook import event_object_id
from credits_app.services.errors import CreditsError

logger = logging.getLogger(__name__)
MAX_ERROR_CHARS = 500
# What never goes into the log, whatever an exception's text carried.
_SECRETS = (
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")


def _first_line(value: object) -> str:
    lines = str(value).strip().splitlines()
    return lines[0].strip() if lines else ""


def redact(text: str) -> str:
    """Replace API keys, webhook secrets, bearer tokens and URL passwords with `[redacted]`."""
    for pattern in _SECRETS:
        text = pattern.sub("[redacted]", text)
    return _URL_PASSWORD.sub(r"\1[redacted]@", text)


def failure_text(exc: BaseException) -> str:
    """Why a delivery failed, in a few readable words: no secrets, no SQL, at most 500 chars.

    A domain error says it in its own message; a database error by its driver's first line
    (SQLAlchemy's own text would carry the statement and its parameters); anything else by
    its type and first line.
    """
    if isinstance(exc, CreditsError):
        text = exc.message
    elif isinstance(exc, DBAPIError) and exc.orig is not None:
        text = f"database error: {_first_line(exc.orig)}"
    elif isinstance(exc, SQLAlchemyError):
        text = f"database error: {type(exc).__name__}"
    else:
        line = _first_line(exc)
        text = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    text = redact(" ".join(text.split()))
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def record_delivery(
    *,
    session: Session,
    event: dict[str, Any],
    outcome: str,
    received_at: datetime,
    duration_ms: int,
    error: str | None = None,
    payload: str | None = None,
    reapplied_by: int | None = None,
    reapply_of: int | None = None,
) -> int:
    """Add one row to the log and commit; return its id.

    `payload` (the verified event as received) is kept for a failed delivery only: that is
    the one case that needs it, to be re-applied.
    """
    row = WebhookDelivery(
        event_id=str(event["id"])[:255],
        type=str(event["type"])[:128],
        object_id=event_object_id(event),
        api_version=str(event.get("api_version") or "")[:32] or None,
        received_at=received_at,
        outcome=outcome,
        error=error,
        duration_ms=max(0, duration_ms),
        payload=payload if outcome == "failed" else None,
        reapplied_by=reapplied_by,
        reapply_of=reapply_of,
    )
    session.add(row)
    session.commit()
    return row.id


def log_delivery(engine: Engine | None = None, **fields: Any) -> int | None:
    """`record_delivery` in a session of its own; on any failure log a warning and return None.

    Args:
        engine: The database (default: DATABASE_URL's).
        **fields: What `record_delivery` takes besides the session.
    """
    try:
        with session_scope(engine) as session:
            return record_delivery(session=session, **fields)
    except Exception as exc:  # the log must never break the delivery it describes
        event = fields.get("event") or {}
        logger.warning(
            "could not log webhook delivery of %s (%s): %s",
            event.get("id"),
            fields.get("outcome"),
            failure_text(exc),
        )
        return None
