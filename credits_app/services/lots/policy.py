"""Expiry policies from the catalogue: how long a purchase's credits last.

A price's metadata `creditsExpireAfter` holds one of:
- an ISO 8601 duration such as `P1Y`, `P3M`, `P30D` or `PT12H` (from the grant);
- `period`: until the billing period the credits were bought for ends (plans);
- nothing (or `never`): the credits never expire, as packs always did.

Calendar arithmetic is done in UTC. Adding months keeps the day of the month and clamps it to
the month's last day (31 Jan + P1M = 28 or 29 Feb), so a "month" never spills into the next.
UTC has no daylight saving, so P1D is always 24 hours.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

PERIOD = "period"
NEVER = "never"
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_MAX_PART = 100_000


@dataclass(frozen=True)
class Duration:
    """A calendar duration: months (years are 12 months) plus an exact time span."""

    months: int = 0
    span: timedelta = timedelta(0)

    def after(self, start: datetime) -> datetime:
        """The moment this long after `start`."""
        return add_months(start, self.months) + self.span


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole months, clamping the day to the target month's length."""
    if not months:
        return moment
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_duration(text: str) -> Duration | None:
    """Parse an ISO 8601 duration (`P1Y2M3DT4H`); None when it is not one or is zero."""
    match = _DURATION.match(text.strip().upper())
    if not match:
        return None
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    if any(value > _MAX_PART for value in parts.values()):
        return None
    duration = Duration(
        months=parts["years"] * 12 + parts["months"],
        span=timedelta(
            weeks=parts["weeks"],
            days=parts["days"],
            hours=parts["hours"],
            minutes=parts["minutes"],
            seconds=parts["seconds"],
        ),
    )
    return duration if duration.months or duration.span else None


def parse_policy(value: object) -> tuple[str | None, str | None]:
    """Read a `creditsExpireAfter` value: (normalised policy, problem).

    The policy is None for "never", `period`, or a duration in canonical upper case.
    """
    if value is None:
        return None, None
    text = str(value).strip()
    if not text or text.lower() == NEVER:
        return None, None
    if text.lower() == PERIOD:
        return PERIOD, None
    if parse_duration(text) is None:
        return None, f"{text!r} is not 'period', 'never' or an ISO 8601 duration like P1Y"
    return text.upper(), None


def expiry_of(policy: str | None, start: datetime, period_end: datetime | None) -> datetime | None:
    """When credits bought at `start` under `policy` expire (None: never).

    `period` without a known period end (a one-time payment) means never.
    """
    if policy is None:
        return None
    if policy == PERIOD:
        return period_end
    duration = parse_duration(policy)
    return duration.after(start) if duration else None
