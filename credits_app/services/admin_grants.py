"""Admin grants (web page, API and CLI): admin rights, the actor, and the lot's terms.

An admin grant is one lot. By default it is paid and never expires; the admin may make it
promotional and give it an expiry (a moment in the future, with its UTC offset). The
ledger's replay compares the entry (amount, reason) only, so a key reused with another
category or expiry is refused here, by comparing the lot the first grant created.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from credits_app.models import CreditLot, LotCategory, LotSource, utcnow
from credits_app.services.errors import Forbidden, IdempotencyConflict, InvalidRequest
from credits_app.services.ledger import LedgerResult, LotTerms, grant_credits
from credits_app.services.sessions import is_admin
from credits_app.services.users import get_user
from credits_app.services.validation import validate_amount, validate_reason
from credits_app.settings import get_settings

lots = CreditLot.__table__
CATEGORIES = (LotCategory.PAID.value, LotCategory.PROMOTIONAL.value)
# An expiry further out than this is almost certainly a typo (year 3026 for 2026).
MAX_EXPIRY_YEARS = 100
EXPIRY_FIELD = "expiresAt"
CATEGORY_FIELD = "category"
# RFC 3339, the profile of ISO 8601 that always carries an offset: 2026-12-31T23:59:59+01:00.
_MOMENT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)
EXPIRY_RULE = "must be an ISO 8601 date and time with an offset, e.g. 2026-12-31T23:59:59Z"


def require_admin(*, session: Session, user_id: int) -> None:
    """Raise `Forbidden` unless the user is an admin (`User.is_admin`)."""
    if not is_admin(get_user(session=session, user_id=user_id)):
        raise Forbidden("only admins can grant credits")


def needs_confirmation(amount: int) -> bool:
    """Tell whether a grant this large must be confirmed a second time."""
    return amount > get_settings().admin_grant_confirm_threshold


def parse_expiry(value: object, field: str = EXPIRY_FIELD) -> datetime:
    """Read an ISO 8601 date and time with an offset (RFC 3339) as an aware UTC datetime.

    Fractions finer than a microsecond are cut off. Whether the moment is in the future is
    checked by `lot_terms`, which knows the time of the grant.

    Raises:
        InvalidRequest: For anything else: no offset, a date alone, a number, a bad date.
    """
    match = _MOMENT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidRequest(field, EXPIRY_RULE)
    offset = match["offset"].upper().replace("Z", "+00:00")
    fraction = f".{match['fraction'][:6]:0<6}" if match["fraction"] else ""
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}{fraction}{offset}")
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidRequest(field, f"is not a valid date and time; it {EXPIRY_RULE}") from None


def lot_terms(
    *,
    category: object = None,
    expires_at: datetime | None = None,
    now: datetime,
    source: str = LotSource.ADMIN,
) -> LotTerms:
    """The terms of an admin grant's lot, starting at `now`.

    Args:
        category: `paid` (the default when None) or `promotional`.
        expires_at: When the credits expire (None: never); must be after `now`.
        now: The time of the grant: the lot is effective from it.
        source: The lot's source.

    Raises:
        InvalidRequest: For an unknown category, or an expiry that is not in the future or
            is more than 100 years away.
    """
    category = LotCategory.PAID.value if category is None else category
    if category not in CATEGORIES:
        raise InvalidRequest(CATEGORY_FIELD, "must be 'paid' or 'promotional'")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidRequest(EXPIRY_FIELD, "must carry a UTC offset")
        if expires_at <= now:
            raise InvalidRequest(EXPIRY_FIELD, "must be in the future")
        if expires_at > now + timedelta(days=366 * MAX_EXPIRY_YEARS):
            raise InvalidRequest(EXPIRY_FIELD, f"must be within {MAX_EXPIRY_YEARS} years")
        expires_at = expires_at.astimezone(UTC)
    return LotTerms(source=source, category=str(category), effective_at=now, expires_at=expires_at)


def _check_replayed_terms(
    session: Session, result: LedgerResult, key: str, terms: LotTerms
) -> None:
    """Refuse a replay whose category or expiry differs from the first grant's lot.

    Raises:
        IdempotencyConflict: Naming `category` and/or `expiresAt`.
    """
    query = select(lots.c.category, lots.c.expires_at).where(lots.c.entry_id == result.entry_id)
    found = session.exec(query).first()
    session.rollback()
    # A grant written before lots existed has no lot of its own: it was paid, never expiring.
    category, expires_at = (found.category, found.expires_at) if found else ("paid", None)
    differing = []
    if category != terms.category:
        differing.append(CATEGORY_FIELD)
    if expires_at != terms.expires_at:
        differing.append(EXPIRY_FIELD)
    if differing:
        raise IdempotencyConflict(key, differing)


def grant_lot_credits(
    *,
    session: Session,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str,
    category: object = None,
    expires_at: datetime | None = None,
    actor_user_id: int | None = None,
    now: datetime | None = None,
) -> LedgerResult:
    """Grant credits as one lot of the given category and expiry, once per idempotency key.

    A retry with the same key, amount, reason, category and expiry replays the first grant;
    any difference is a conflict and nothing is written.

    Raises:
        InvalidRequest: For a bad amount, reason, key, category or expiry; nothing is written.
        UserNotFound: When the user does not exist.
        IdempotencyConflict: When the key was used for a different grant.
    """
    terms = lot_terms(category=category, expires_at=expires_at, now=now or utcnow())
    result = grant_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        source=source,
        actor_user_id=actor_user_id,
        terms=terms,
    )
    if result.replayed:
        _check_replayed_terms(session, result, idempotency_key, terms)
    return result


def admin_grant(
    *,
    session: Session,
    admin_user_id: int,
    user_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    confirmed: bool = False,
    category: object = None,
    expires_at: datetime | None = None,
) -> LedgerResult:
    """Grant credits to a user on behalf of an admin, recording the admin as the actor.

    Raises:
        Forbidden: When the acting user is not an admin.
        InvalidRequest: For a bad amount, reason, category or expiry, or a large grant that
            is not confirmed.
        UserNotFound: When the user does not exist.
        IdempotencyConflict: When the key was used for a different grant.
    """
    require_admin(session=session, user_id=admin_user_id)
    amount = validate_amount(amount)
    reason = validate_reason(reason)
    if needs_confirmation(amount) and not confirmed:
        raise InvalidRequest("amount", "grants above the threshold need confirmation")
    return grant_lot_credits(
        session=session,
        user_id=user_id,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        source="admin",
        category=category,
        expires_at=expires_at,
        actor_user_id=admin_user_id,
    )
