"""Argument types shared by the commands: bad values are usage errors, not tracebacks."""

from __future__ import annotations

import argparse

from credits_app.services.validation import MAX_USER_ID


def user_id(text: str) -> int:
    """Parse a USER_ID argument: a positive integer that can name a user."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a user id: {text!r}") from None
    if not 1 <= value <= MAX_USER_ID:
        raise argparse.ArgumentTypeError(f"user ids run from 1 to {MAX_USER_ID}, not {value}")
    return value
