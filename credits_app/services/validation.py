"""Strict checks for the values every write carries; nothing is coerced."""

from __future__ import annotations

import re
from typing import Any

from credits_app.services.errors import InvalidAmount, InvalidRequest

MAX_AMOUNT = 10**9
MAX_KEY_LENGTH = 255
FEATURE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# User ids are 32-bit on every database we support.
MAX_USER_ID = 2**31 - 1


def validate_amount(value: Any, field: str = "amount") -> int:
    """Return `value` if it is an integer credit amount within 1..10^9.

    Raises:
        InvalidAmount: For anything else, including bools, floats and numeric strings.
    """
    if type(value) is not int:
        raise InvalidAmount(field, "must be an integer number of credits")
    if not 1 <= value <= MAX_AMOUNT:
        raise InvalidAmount(field, f"must be between 1 and {MAX_AMOUNT}")
    return value


def validate_key(value: Any, field: str = "idempotencyKey") -> str:
    """Return `value` if it is a usable idempotency key (1-255 printable characters).

    Raises:
        InvalidRequest: When the key is missing, not a string, too long or has control chars.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(field, "must be a non-empty string")
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidRequest(field, f"must be at most {MAX_KEY_LENGTH} characters")
    if _CONTROL.search(value):
        raise InvalidRequest(field, "must not contain control characters")
    return value


def validate_feature(value: Any, field: str = "feature") -> str:
    """Return `value` if it is a feature name such as `ai-generation`.

    Raises:
        InvalidRequest: Unless it is 1-64 letters, digits or `._:/-`, starting alphanumeric.
    """
    if not isinstance(value, str) or not FEATURE_PATTERN.fullmatch(value):
        raise InvalidRequest(
            field, "must be 1-64 letters, digits or ._:/- and start with a letter or digit"
        )
    return value


def validate_reason(value: Any, field: str = "reason") -> str:
    """Return the trimmed reason text (1-255 characters, no control characters).

    Raises:
        InvalidRequest: When it is empty, too long, not a string or has control characters.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(field, "must be a non-empty string")
    value = value.strip()
    if len(value) > 255:
        raise InvalidRequest(field, "must be at most 255 characters")
    if _CONTROL.search(value):
        raise InvalidRequest(field, "must not contain control characters")
    return value


def validate_user_id(value: Any, field: str = "userId") -> int:
    """Return `value` if it is a positive integer user id.

    Raises:
        InvalidRequest: For anything else.
    """
    if type(value) is not int or not 1 <= value <= MAX_USER_ID:
        raise InvalidRequest(field, "must be a positive integer user id")
    return value
