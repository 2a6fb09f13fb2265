"""People who log in: create, find, authenticate, change passwords, make admin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from credits_app.models import User, utcnow
from credits_app.services.accounts import open_account
from credits_app.services.errors import (
    CreditsError,
    EmailNotVerified,
    Forbidden,
    InvalidRequest,
    Unauthorized,
    UserNotFound,
)
from credits_app.services.passwords import MAX_PASSWORD_LENGTH, hash_password, verify_password

EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
MIN_PASSWORD_LENGTH = 8
WRONG_CREDENTIALS = "wrong email or password"


@dataclass(frozen=True)
class UserInfo:
    """A user as services hand it out: plain values, no password hash, no session ties."""

    id: int
    email: str
    is_admin: bool
    created_at: datetime
    email_verified: bool = True

    @classmethod
    def of(cls, user: User) -> UserInfo:
        """Copy the public fields of a `User` row."""
        return cls(
            id=user.id,
            email=user.email,
            is_admin=user.is_admin,
            created_at=user.created_at,
            email_verified=user.email_verified_at is not None,
        )


class EmailTaken(CreditsError):
    """Raised when an operator creates a user whose email already has an account."""

    code = "email_taken"


def normalize_email(email: object) -> str:
    """Return the email trimmed and lower-cased.

    Raises:
        InvalidRequest: When it does not look like an email address.
    """
    if not isinstance(email, str) or len(email) > 320:
        raise InvalidRequest("email", "must be an email address")
    email = email.strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise InvalidRequest("email", "must be an email address like ada@example.com")
    return email


def check_password_strength(password: object, field: str = "password") -> str:
    """Return the password if it is acceptable.

    Raises:
        InvalidRequest: When it is shorter than 8 characters or trivially weak.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4 or password.lower() in {"password", "12345678", "qwertyui"}:
        raise InvalidRequest(field, "is too easy to guess; mix more different characters")
    return password


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    is_admin: bool = False,
    email_verified: bool = True,
) -> UserInfo:
    """Create a user with a hashed password and an empty credit account.

    This is the operator's path (CLI, tests): the address counts as verified unless
    `email_verified=False`. People registering on the site go through `registration`.

    Raises:
        InvalidRequest: For a malformed email or a weak password.
        EmailTaken: When the email is already registered.
    """
    email = normalize_email(email)
    password_hash = hash_password(check_password_strength(password))
    user = User(
        email=email,
        password_hash=password_hash,
        is_admin=is_admin,
        email_verified_at=utcnow() if email_verified else None,
    )
    try:
        session.add(user)
        session.flush()
        open_account(session, user.id)
        info = UserInfo.of(user)
        session.commit()
    except IntegrityError:
        session.rollback()
        if user_row(session, email) is None:
            raise
        raise EmailTaken(f"an account for {email} already exists") from None
    except BaseException:
        session.rollback()
        raise
    return info


def user_row(session: Session, email: str) -> User | None:
    """The `User` row of a normalized email, or None."""
    return session.exec(select(User).where(User.email == email)).first()


def _existing_row(session: Session, email: str) -> User:
    user = user_row(session, normalize_email(email))
    if user is None:
        raise UserNotFound(f"no user with email {normalize_email(email)}")
    return user


def find_user_by_email(*, session: Session, email: str) -> UserInfo:
    """Return the user with this email (case-insensitive).

    Raises:
        InvalidRequest: When it is not an email address.
        UserNotFound: When nobody registered it.
    """
    return UserInfo.of(_existing_row(session, email))


def get_user(*, session: Session, user_id: int) -> UserInfo:
    """Return the user with this id.

    Raises:
        UserNotFound: When there is none.
    """
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"no user with id {user_id}")
    return UserInfo.of(user)


def authenticate(*, session: Session, email: object, password: object) -> UserInfo:
    """Return the user if the password matches; every answer costs the same work.

    Anything but a string password of a sane length is refused before the email is looked
    up, identically for every email. Otherwise exactly one Argon2 verification runs: against
    the user's hash, or against a dummy hash when there is no such user.

    Raises:
        Unauthorized: For an unknown email or a wrong password (the same message for both).
        EmailNotVerified: For the right password of an address never confirmed.
    """
    if not isinstance(password, str) or not 0 < len(password) <= MAX_PASSWORD_LENGTH:
        raise Unauthorized(WRONG_CREDENTIALS)
    try:
        user = user_row(session, normalize_email(email))
    except InvalidRequest:
        raise Unauthorized(WRONG_CREDENTIALS) from None
    matches = verify_password(password, user.password_hash if user else None)
    if user is None or not matches:
        raise Unauthorized(WRONG_CREDENTIALS)
    if user.email_verified_at is None:
        raise EmailNotVerified(user.id)
    return UserInfo.of(user)


def replace_password(session: Session, user: User, password: object, field: str) -> None:
    """Set a new (strong enough) password on the row; the caller commits.

    Raises:
        InvalidRequest: When the new password is too weak.
    """
    user.password_hash = hash_password(check_password_strength(password, field))
    session.add(user)


def set_admin(*, session: Session, email: str, is_admin: bool = True) -> UserInfo:
    """Grant or revoke admin rights.

    Raises:
        UserNotFound: When nobody registered the email.
    """
    user = _existing_row(session, email)
    user.is_admin = is_admin
    info = UserInfo.of(user)
    session.add(user)
    session.commit()
    return info


def require_admin_to(*, session: Session, user_id: int, action: str) -> None:
    """Raise `Forbidden` unless `user_id` names an admin (an unknown id is no admin either).

    `action` says what was asked for, for the message: "only admins can {action}".
    """
    user = session.get(User, user_id) if isinstance(user_id, int) and user_id > 0 else None
    if user is None or not user.is_admin:
        raise Forbidden(f"only admins can {action}")
