"""Admin grants from the web page: checked admin rights, the admin recorded as the actor."""

from __future__ import annotations

from sqlmodel import Session

from credits_app.services.errors import Forbidden, InvalidRequest
from credits_app.services.ledger import LedgerResult, grant_credits
from credits_app.services.sessions import is_admin
from credits_app.services.users import get_user
from credits_app.services.validation import validate_amount, validate_reason
from credits_app.settings import get_settings


def require_admin(*, session: Session, user_id: int) -> None:
    """Raise `Forbidden` unless the user is an admin (flag or ADMIN_EMAILS)."""
    if not is_admin(get_user(session=session, user_id=user_id)):
        raise Forbidden("only admins can grant credits")


def needs_confirmation(amount: int) -> bool:
    """Tell whether a grant this large must be confirmed a second time."""
    return amount > get_settings().admin_grant_confirm_threshold


def admin_grant(
    *,
    session: Session,
    admin_user_id: int,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    confirmed: bool = False,
) -> LedgerResult:
    """Grant credits to a user on behalf of an admin, recording the admin as the actor.

    Raises:
        Forbidden: When the acting user is not an admin.
        InvalidRequest: For a bad amount or reason, or a large grant that is not confirmed.
        UserNotFound: When the user does not exist.
    """
    require_admin(session=session, user_id=admin_user_id)
    amount = validate_amount(amount)
    reason = validate_reason(reason)
    if needs_confirmation(amount) and not confirmed:
        raise InvalidRequest("amount", "grants above the threshold need confirmation")
    return grant_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        source="admin",
        actor_user_id=admin_user_id,
    )
