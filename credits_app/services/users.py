"""People who log in: create, find, authenticate, make admin."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from credits_app.models import User
from credits_app.services.accounts import open_account
from credits_app.services.errors import CreditsError, InvalidRequest, Unauthorized, UserNotFound
from credits_app.settings import get_settings

EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class UserInfo:
    """A user as services hand it out: plain values, no password hash, no session ties."""

    id: int
    email: str
    is_admin: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserInfo:
        """Copy the public fields of a `User` row."""
        return cls(id=user.id, email=user.email, is_admin=user.is_admin, created_at=user.created_at)


@functools.cache
def _password_hash() -> tuple[PasswordHash, str]:
    """Return the Argon2id hasher and a dummy hash for unknown emails.

    Checking the dummy hash when the email is unknown makes a wrong email take as long as a
    wrong password, so response times do not reveal who has an account.
    """
    settings = get_settings()
    hasher = PasswordHash(
        (Argon2Hasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),)
    )
    return hasher, hasher.hash("not-a-real-password")


class EmailTaken(CreditsError):
    """Raised when registering an email that already has an account."""

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


def check_password_strength(password: object) -> str:
    """Return the password if it is acceptable.

    Raises:
        InvalidRequest: When it is shorter than 8 characters or trivially weak.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise InvalidRequest("password", "must be at most 1024 characters")
    if len(set(password)) < 4 or password.lower() in {"password", "12345678", "qwertyui"}:
        raise InvalidRequest("password", "is too easy to guess; mix more different characters")
    return password


def create_user(*, session: Session, email: str, password: str, is_admin: bool = False) -> UserInfo:
    """Register a user with a hashed password and an empty credit account.

    Raises:
        InvalidRequest: For a malformed email or a weak password.
        EmailTaken: When the email is already registered.
    """
    email = normalize_email(email)
    hasher, _ = _password_hash()
    password_hash = hasher.hash(check_password_strength(password))
    user = User(email=email, password_hash=password_hash, is_admin=is_admin)
    try:
        session.add(user)
        session.flush()
        open_account(session, user.id)
        info = UserInfo.of(user)
        session.commit()
    except IntegrityError:
        session.rollback()
        if session.exec(select(User.id).where(User.email == email)).first() is None:
            raise
        raise EmailTaken(f"an account for {email} already exists") from None
    except BaseException:
        session.rollback()
        raise
    return info


def _user_row(session: Session, email: str) -> User:
    email = normalize_email(email)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        raise UserNotFound(f"no user with email {email}")
    return user


def find_user_by_email(*, session: Session, email: str) -> UserInfo:
    """Return the user with this email (case-insensitive).

    Raises:
        InvalidRequest: When it is not an email address.
        UserNotFound: When nobody registered it.
    """
    return UserInfo.of(_user_row(session, email))


def get_user(*, session: Session, user_id: int) -> UserInfo:
    """Return the user with this id.

    Raises:
        UserNotFound: When there is none.
    """
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"no user with id {user_id}")
    return UserInfo.of(user)


def authenticate(*, session: Session, email: str, password: str) -> UserInfo:
    """Return the user if the password matches.

    Raises:
        Unauthorized: For an unknown email or a wrong password (the same message for both).
    """
    hasher, dummy_hash = _password_hash()
    try:
        user = _user_row(session, email)
    except (UserNotFound, InvalidRequest):
        hasher.verify(str(password), dummy_hash)
        raise Unauthorized("wrong email or password") from None
    if not isinstance(password, str) or not hasher.verify(password, user.password_hash):
        raise Unauthorized("wrong email or password")
    return UserInfo.of(user)


def set_admin(*, session: Session, email: str, is_admin: bool = True) -> UserInfo:
    """Grant or revoke admin rights.

    Raises:
        UserNotFound: When nobody registered the email.
    """
    user = _user_row(session, email)
    user.is_admin = is_admin
    info = UserInfo.of(user)
    session.add(user)
    session.commit()
    return info
