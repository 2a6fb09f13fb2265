"""Only admins read the webhook log or re-apply from it; checked on every call."""

from __future__ import annotations

from sqlmodel import Session

from credits_app.models import User
from credits_app.services.errors import Forbidden


def require_admin(*, session: Session, user_id: int, action: str) -> None:
    """Raise `Forbidden` unless `user_id` is an admin (an unknown id is no admin either).

    Args:
        session: Any session; this only reads.
        user_id: Who asks.
        action: What they asked for, for the message ("see the webhook log").
    """
    user = session.get(User, user_id) if isinstance(user_id, int) and user_id > 0 else None
    if user is None or not user.is_admin:
        raise Forbidden(f"only admins can {action}")
