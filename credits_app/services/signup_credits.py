"""Sign-up credits: promotional credits for a new user, once, when they confirm their address.

Off unless SIGNUP_CREDITS is above 0. The grant is made when a person proves their email
address (the verification link, or a password reset link for an address never confirmed),
in the same transaction that marks the address confirmed: an account nobody confirmed gets
nothing, so throwaway registrations farm no credits. Users the operator creates
(`create-user`) are confirmed from the start and get none; grant them credits directly.

The lot is promotional (source `promotion`), effective at once, and expires
SIGNUP_CREDITS_EXPIRE_AFTER after the grant (never when unset). The idempotency key
`signup:{user_id}` makes it once per user, whichever path confirms the address.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from credits_app.models import EntryKind, LotCategory, LotSource, User
from credits_app.services import balance_events
from credits_app.services.accounts import lock_account
from credits_app.services.ledger import LedgerResult, LotTerms, find_entry, post_grant
from credits_app.services.lots.policy import parse_duration
from credits_app.settings import get_settings

SIGNUP_SOURCE = "signup"
SIGNUP_REASON = "Welcome: sign-up credits"


def signup_key(user_id: int) -> str:
    """The idempotency key of a user's sign-up grant."""
    return f"signup:{user_id}"


def signup_terms(now: datetime) -> LotTerms:
    """The lot of sign-up credits granted at `now`: promotional, maybe expiring."""
    lifetime = get_settings().signup_credits_expire_after
    duration = parse_duration(lifetime) if lifetime else None
    return LotTerms(
        source=LotSource.PROMOTION,
        category=LotCategory.PROMOTIONAL,
        effective_at=now,
        expires_at=duration.after(now) if duration else None,
    )


def grant_signup_credits(session: Session, user_id: int, now: datetime) -> LedgerResult | None:
    """Grant the sign-up credits inside the caller's transaction (no commit), at most once.

    The account is locked before looking for an earlier grant, so two confirmations racing
    (a verification link and a reset link) grant once: the second waits for the first to
    commit and then finds its entry.

    Returns:
        The grant's result, or None when SIGNUP_CREDITS is 0 or the user already got them.
    """
    amount = get_settings().signup_credits
    if amount <= 0:
        return None
    lock_account(session, user_id, now)
    key = signup_key(user_id)
    if find_entry(session, user_id=user_id, kind=EntryKind.GRANT, key=key) is not None:
        return None
    return post_grant(
        session,
        user_id=user_id,
        amount=amount,
        reason=SIGNUP_REASON,
        idempotency_key=key,
        source=SIGNUP_SOURCE,
        source_ref=f"user:{user_id}",
        now=now,
        terms=signup_terms(now),
    )


def confirm_address(session: Session, user: User, now: datetime) -> LedgerResult | None:
    """Mark the user's address confirmed (no commit); the first time, grant sign-up credits.

    Returns:
        The sign-up grant, or None when none was made (already confirmed, or the setting
        is off); pass it to `announce` after the commit.
    """
    if user.email_verified_at is not None:
        return None
    user.email_verified_at = now
    session.add(user)
    return grant_signup_credits(session, user.id, now)


def announce(result: LedgerResult | None) -> None:
    """Tell open tabs about a committed sign-up grant (nothing when there was none)."""
    if result is not None:
        change = balance_events.BalanceChanged(result.user_id, result.balance, result.available)
        balance_events.publish(change)
