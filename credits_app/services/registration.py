"""Signing up on the site: the same answer whether or not the address has an account.

Every registration hashes one password and produces one email: a verification link for a
new or still unconfirmed address, or an "already registered" note for a confirmed one.
No second account is ever created, and nobody can log in before confirming the address.
Registering an unconfirmed address again replaces its password and its pending links: the
address was never proven, so whoever proves it sets the password.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import User, utcnow
from credits_app.services import account_mail, email_tokens, signup_credits, throttle
from credits_app.services.accounts import open_account
from credits_app.services.mail import Mail
from credits_app.services.passwords import hash_password
from credits_app.services.users import (
    UserInfo,
    check_password_strength,
    normalize_email,
    user_row,
)
from credits_app.settings import get_settings


def _verify_ttl() -> timedelta:
    return timedelta(hours=get_settings().email_verify_ttl_hours)


def _row_for(session: Session, email: str, password_hash: str) -> User:
    """The address's user, created unconfirmed when there is none."""
    user = user_row(session, email)
    if user is not None:
        return user
    user = User(email=email, password_hash=password_hash)
    try:
        session.add(user)
        session.flush()
        open_account(session, user.id)
    except IntegrityError:
        session.rollback()  # registered at this very moment by someone else
        return user_row(session, email)
    return user


def register(*, session: Session, email: object, password: object, client_ip: str) -> Mail | None:
    """Register (or re-register) an address; return the email to send, None if throttled.

    Raises:
        RateLimited: Past REGISTRATIONS_PER_IP_HOUR from this address.
        InvalidRequest: For a malformed email or a weak password (before any lookup).
    """
    throttle.check_registration(client_ip=client_ip)
    email = normalize_email(email)
    password_hash = hash_password(check_password_strength(password))
    try:
        user = _row_for(session, email, password_hash)
        if user.email_verified_at is not None:
            mail = account_mail.already_registered(email)
        else:
            user.password_hash = password_hash
            session.add(user)
            email_tokens.retire_tokens(
                session=session, user_id=user.id, purpose=email_tokens.VERIFY
            )
            token = email_tokens.issue_token(
                session=session, user_id=user.id, purpose=email_tokens.VERIFY, ttl=_verify_ttl()
            )
            mail = account_mail.verification(email, token)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return mail if throttle.may_mail(email) else None


def verification_again(*, session: Session, user_id: int) -> Mail | None:
    """A new verification link for an unconfirmed user who gave the right password."""
    user = session.get(User, user_id)
    if user is None or user.email_verified_at is not None:
        return None
    token = email_tokens.issue_token(
        session=session, user_id=user.id, purpose=email_tokens.VERIFY, ttl=_verify_ttl()
    )
    session.commit()
    return account_mail.verification(user.email, token) if throttle.may_mail(user.email) else None


def verify_email(*, session: Session, token: object) -> UserInfo:
    """Confirm the address of the link's user, granting the sign-up credits if any are set.

    Raises:
        InvalidLink: When the link is unknown, used or expired.
    """
    try:
        user_id = email_tokens.use_token(session=session, token=token, purpose=email_tokens.VERIFY)
        user = session.get(User, user_id)
        granted = signup_credits.confirm_address(session, user, utcnow())
        info = UserInfo.of(user)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    signup_credits.announce(granted)
    return info
