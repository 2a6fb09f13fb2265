"""Logging in from the web: throttled per address and per account before any hash."""

from __future__ import annotations

from sqlmodel import Session

from credits_app.services import throttle
from credits_app.services.users import UserInfo, authenticate


def sign_in(*, session: Session, email: object, password: object, client_ip: str) -> UserInfo:
    """Count the attempt, then check the password (always one hash, known email or not).

    Raises:
        RateLimited: When the address or the account is over its limits (nothing hashed).
        Unauthorized: For an unknown email or a wrong password.
        EmailNotVerified: For the right password of an unconfirmed address.
    """
    key = email.strip().lower() if isinstance(email, str) else ""
    throttle.check_login(client_ip=client_ip, email=key[:320])
    return authenticate(session=session, email=email, password=password)
