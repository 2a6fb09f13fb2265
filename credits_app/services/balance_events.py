"""In-process notice that a user's balance changed, so live pages can push it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BalanceChanged:
    """A committed change to one user's balance."""

    user_id: int
    balance: int
    available: int


Listener = Callable[[BalanceChanged], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener` after every committed balance change in this process.

    Returns:
        A function that removes the listener again.
    """
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def publish(change: BalanceChanged) -> None:
    """Tell every listener; a failing listener never fails the write that already committed."""
    for listener in list(_listeners):
        try:
            listener(change)
        except Exception:
            logger.exception("balance listener failed for user %s", change.user_id)
