"""Keep a burst of throttled attempts inside one fixed rate-limit window."""

from __future__ import annotations

import time


def fresh_window(seconds: int = 60, margin: float = 5) -> None:
    """Wait for the next window if the current one ends within `margin` seconds.

    Throttles count in fixed windows (services/ratelimit.py): a burst that straddles a
    boundary is split in two, and neither half reaches the limit.
    """
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)
