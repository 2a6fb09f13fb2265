"""New passwords: reset by an emailed link (ends every session) or changed while logged in.

The database is read, and the read ended, before any password is hashed, so a SQLite
writer never waits on an Argon2 hash.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from credits_app.models import EmailToken, User, utcnow
from credits_app.services import account_mail, email_tokens, sessions, signup_credits, throttle
from credits_app.services.errors import InvalidLink, Unauthorized
from credits_app.services.mail import Mail
from credits_app.services.passwords import MAX_PASSWORD_LENGTH, hash_password, verify_password
from credits_app.services.users import (
    UserInfo,
    check_password_strength,
    normalize_email,
    user_row,
)
from credits_app.settings import get_settings


def request_reset(*, session: Session, email: object, client_ip: str) -> Mail | None:
    """Prepare the reset email for an address (a note when it has no account); None if throttled.

    Raises:
        RateLimited: Past PASSWORD_RESETS_PER_IP_HOUR from this address.
        InvalidRequest: When the email is malformed.
    """
    throttle.check_reset_request(client_ip=client_ip)
    email = normalize_email(email)
    user = user_row(session, email)
    if user is None:
        session.rollback()
        mail = account_mail.no_account(email)
    else:
        ttl = timedelta(minutes=get_settings().password_reset_ttl_minutes)
        token = email_tokens.issue_token(
            session=session, user_id=user.id, purpose=email_tokens.RESET, ttl=ttl
        )
        session.commit()
        mail = account_mail.password_reset(email, token)
    return mail if throttle.may_mail(email) else None


def reset_link_valid(*, session: Session, token: object) -> bool:
    """Whether a reset link can still be used (to say so before the form is filled in)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return False
    found = session.exec(
        select(EmailToken.id).where(
            EmailToken.token_hash == email_tokens.token_hash(token),
            EmailToken.purpose == email_tokens.RESET,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > utcnow(),
        )
    ).first()
    session.rollback()
    return found is not None


def reset_password(*, session: Session, token: object, password: object) -> UserInfo:
    """Set a new password through a reset link, confirm the address, end every session.

    Raises:
        InvalidLink: When the link is unknown, used or expired (checked before hashing).
        InvalidRequest: When the new password is too weak.
    """
    if not reset_link_valid(session=session, token=token):
        raise InvalidLink("this link was already used or has expired; ask for a new one")
    password_hash = hash_password(check_password_strength(password))
    try:
        user_id = email_tokens.use_token(session=session, token=token, purpose=email_tokens.RESET)
        user = session.get(User, user_id)
        user.password_hash = password_hash
        session.add(user)
        # The link proved the address: a first confirmation gets the sign-up credits.
        granted = signup_credits.confirm_address(session, user, utcnow())
        sessions.revoke_sessions(session, user_id)
        info = UserInfo.of(user)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    signup_credits.announce(granted)
    return info


def change_password(
    *, session: Session, user_id: int, current: object, new: object, keep_token: str, client_ip: str
) -> int:
    """Change the password of a logged-in user; end their other sessions; return how many.

    Raises:
        RateLimited: When the account or address is over the login attempt limits.
        Unauthorized: When the current password is wrong.
        InvalidRequest: When the new password is too weak.
    """
    user = session.get(User, user_id)
    email, stored_hash = (user.email, user.password_hash) if user else ("", "")
    session.rollback()
    if user is None:
        raise Unauthorized("log in again")
    throttle.check_login(client_ip=client_ip, email=email)
    new = check_password_strength(new, "new password")
    valid = isinstance(current, str) and 0 < len(current) <= MAX_PASSWORD_LENGTH
    if not valid or not verify_password(current, stored_hash):
        raise Unauthorized("the current password is wrong")
    password_hash = hash_password(new)
    try:
        row = session.get(User, user_id)
        row.password_hash = password_hash
        session.add(row)
        ended = sessions.revoke_sessions(session, user_id, keep_token)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ended
