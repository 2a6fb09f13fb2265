"""The simulator's clock: real time plus an offset that the test clock moves forward."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_INTERVAL_SECONDS = {"day": 86_400, "week": 7 * 86_400}


class SimClock:
    """Unix-seconds clock that starts at real time and can only move forward."""

    def __init__(self) -> None:
        self.offset = 0
        self._pinned: int | None = None

    def now(self) -> int:
        """Current simulated time in unix seconds."""
        if self._pinned is not None:
            return self._pinned
        return int(time.time()) + self.offset

    @contextmanager
    def pinned(self, at: int) -> Iterator[None]:
        """Make `now()` return `at` inside the block (renewals happen at period boundaries)."""
        self._pinned = at
        try:
            yield
        finally:
            self._pinned = None

    def advance(self, seconds: int) -> int:
        """Move the clock forward and return the new time."""
        if seconds < 0:
            raise ValueError("the test clock cannot go backwards")
        self.offset += seconds
        return self.now()

    def reset(self) -> None:
        """Go back to real time."""
        self.offset = 0
        self._pinned = None


def add_interval(anchor: int, interval: str, count: int) -> int:
    """Add `count` billing intervals to a unix timestamp, using calendar months like Stripe.

    Month arithmetic is done from the anchor each time, so a subscription started on
    January 31 renews on February 28 and then March 31 rather than drifting.

    Args:
        anchor: Start timestamp (the billing cycle anchor).
        interval: One of `day`, `week`, `month`, `year`.
        count: Number of intervals to add.
    """
    if interval in _INTERVAL_SECONDS:
        return anchor + _INTERVAL_SECONDS[interval] * count
    months = count * (12 if interval == "year" else 1)
    start = datetime.fromtimestamp(anchor, tz=UTC)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())
