"""Plain factory functions that create test data through the real services."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from sqlmodel import Session

from credits_app.models import utcnow
from credits_app.services.ledger import LedgerResult, LotTerms, grant_credits
from credits_app.services.users import UserInfo, create_user

_counter = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"


def make_user(
    session: Session,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_admin: bool = False,
    credits: int = 0,
) -> UserInfo:
    """Register a user (optionally admin) and grant it `credits` as a welcome grant."""
    email = email or f"user{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
    user = create_user(session=session, email=email, password=password, is_admin=is_admin)
    if credits:
        give(session, user.id, credits)
    return user


def give(session: Session, user_id: int, amount: int, reason: str = "test grant") -> LedgerResult:
    """Grant `amount` credits under a fresh idempotency key, as a never-expiring paid lot.

    The lot is effective from a day ago, so tests that act "a minute ago" (to make holds
    run out) can spend it.
    """
    return grant_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=reason,
        idempotency_key=f"test-{uuid.uuid4().hex}",
        terms=LotTerms(effective_at=utcnow() - timedelta(days=1)),
    )
