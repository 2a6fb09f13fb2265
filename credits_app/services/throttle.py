"""Throttles for account actions, counted by `services.ratelimit` (Redis or this process).

Every attempt counts, before any password is hashed, so a throttled attempt costs the server
one counter increment. Windows are fixed: a short one that slows guessing down (backoff) and
a long one that stops it for the rest of the hour (lockout). Counters for an email are kept
under its SHA-256, and apply whether or not an account exists, so a limit says nothing
about who has an account.
"""

from __future__ import annotations

import hashlib

from credits_app.services.errors import RateLimited
from credits_app.services.ratelimit import limiter_for
from credits_app.settings import get_settings

MINUTE = 60
HOUR = 3600


def _count(key: str, limits: list[tuple[int, int]]) -> None:
    limiter = limiter_for(get_settings().redis_url)
    for limit, window in limits:
        limiter.hit(f"accounts:{key}", limit, window)


def _address(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def check_login(*, client_ip: str, email: str) -> None:
    """Count a login attempt for the address it comes from and the account it names.

    Raises:
        RateLimited: When either is over its limit; `retry_after` says for how long.
        Unavailable: When Redis is configured but cannot be reached.
    """
    settings = get_settings()
    _count(
        f"login-ip:{client_ip}",
        [
            (settings.login_attempts_per_ip_minute, MINUTE),
            (settings.login_attempts_per_ip_hour, HOUR),
        ],
    )
    _count(
        f"login-account:{_address(email)}",
        [
            (settings.login_attempts_per_account_minute, MINUTE),
            (settings.login_attempts_per_account_hour, HOUR),
        ],
    )


def check_registration(*, client_ip: str) -> None:
    """Count a registration from this address.

    Raises:
        RateLimited: Past REGISTRATIONS_PER_IP_HOUR.
    """
    _count(f"register-ip:{client_ip}", [(get_settings().registrations_per_ip_hour, HOUR)])


def check_reset_request(*, client_ip: str) -> None:
    """Count a password reset request from this address.

    Raises:
        RateLimited: Past PASSWORD_RESETS_PER_IP_HOUR.
    """
    _count(f"reset-ip:{client_ip}", [(get_settings().password_resets_per_ip_hour, HOUR)])


def may_mail(email: str) -> bool:
    """Count an account email to this address; False once it got enough for this hour.

    Callers drop the mail silently: the visitor's answer must not depend on it.
    """
    try:
        _count(f"mail:{_address(email)}", [(get_settings().account_mails_per_address_hour, HOUR)])
    except RateLimited:
        return False
    return True
