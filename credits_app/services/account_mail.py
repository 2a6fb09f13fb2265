"""The emails of the account flows: what they say and the links they carry."""

from __future__ import annotations

from urllib.parse import quote

from credits_app.services.mail import Mail
from credits_app.settings import get_settings

SIGNATURE = "\n\n— Credits\n"


def _url(path: str, token: str = "") -> str:
    base = get_settings().site_url.rstrip("/")
    return f"{base}{path}?token={quote(token)}" if token else f"{base}{path}"


def verification(email: str, token: str) -> Mail:
    """The link that confirms a new account's address."""
    hours = get_settings().email_verify_ttl_hours
    link = _url("/verify-email", token)
    text = (
        f"Someone (hopefully you) created a Credits account for {email}.\n\n"
        f"Confirm this address to finish, within {hours} hours:\n\n{link}\n\n"
        "If it was not you, ignore this email: nothing happens without the link."
    )
    return Mail(email, "Confirm your email address", text + SIGNATURE, link)


def already_registered(email: str) -> Mail:
    """Sent instead of a second account: the address is registered and confirmed."""
    link = _url("/forgot-password")
    text = (
        f"Someone tried to create a Credits account for {email}, but this address already "
        f"has one. Log in at {_url('/login')}.\n\n"
        f"Forgot your password? Choose a new one here:\n\n{link}\n\n"
        "If it was not you, ignore this email: your account did not change."
    )
    return Mail(email, "You already have an account", text + SIGNATURE, link)


def password_reset(email: str, token: str) -> Mail:
    """The link that lets the owner of the address choose a new password."""
    minutes = get_settings().password_reset_ttl_minutes
    link = _url("/reset-password", token)
    text = (
        f"Someone asked to reset the password of the Credits account for {email}.\n\n"
        f"Choose a new password within {minutes} minutes (this logs out every device):\n\n"
        f"{link}\n\nIf it was not you, ignore this email: your password did not change."
    )
    return Mail(email, "Reset your password", text + SIGNATURE, link)


def no_account(email: str) -> Mail:
    """Answer to a reset request for an address without an account."""
    link = _url("/register")
    text = (
        f"Someone asked to reset the password of a Credits account for {email}, but this "
        f"address has no account. To create one:\n\n{link}\n\n"
        "If it was not you, ignore this email."
    )
    return Mail(email, "Reset your password", text + SIGNATURE, link)
