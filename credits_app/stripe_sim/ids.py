"""Identifiers in Stripe's style: a type prefix and a random alphanumeric tail."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return a fresh id such as `cus_Q1w2E3r4...`.

    Args:
        prefix: The type prefix including its underscore, e.g. `"cus_"` or `"cs_test_"`.
        length: Number of random characters after the prefix.
    """
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))
