"""Usage and credit-flow analytics over a range of UTC days, read from the daily rollups.

A user sees their usage per day and per feature, their top features, and the credits they
bought against the credits they used. Admins see the same flows for everyone: credits
sold, given, used, expired and clawed back per day, and what was outstanding at the end
of each day. Every figure comes from `usage_daily` and `ledger_daily`, whose rows the
database keeps exact (see `credits_app.models.analytics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from credits_app.models import EntryKind
from credits_app.services import rollups
from credits_app.services.accounts import accounts, require_user
from credits_app.services.errors import InvalidRequest

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_FEATURES = 5
GROUPINGS = ("day", "feature")
# Where a grant came from decides what it counts as: bought with money, given back by
# Stripe (a failed refund or a won dispute undoes a clawback), or carried over from an
# ended lot (it undoes part of that lot's expiry). Any other grant was given.
PURCHASE_SOURCES = ("stripe_checkout", "stripe_invoice")
RESTORE_SOURCES = ("stripe_refund", "stripe_dispute")
ROLLOVER_SOURCE = "rollover"
FLOWS = ("bought", "given", "used", "expired", "clawed_back", "other")


@dataclass(frozen=True)
class DayRange:
    """UTC days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        """Every day of the range, oldest first."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def today() -> date:
    """The current UTC day."""
    return datetime.now(UTC).date()


def _parse_day(name: str, text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(name, "must be a date like 2026-11-30") from None


def day_range(
    first: str | date | None = None, last: str | date | None = None, *, now: date | None = None
) -> DayRange:
    """The range asked for: `last` defaults to today (UTC), `first` to 29 days before `last`.

    Raises:
        InvalidRequest: When a day is not a date, `from` is after `to`, or the range is
            longer than MAX_DAYS.
    """
    end = last if isinstance(last, date) else _parse_day("to", last)
    start = first if isinstance(first, date) else _parse_day("from", first)
    end = end or (start + timedelta(days=DEFAULT_DAYS - 1) if start else now or today())
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidRequest("from", "must not be after 'to'")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidRequest("to", f"the range may cover at most {MAX_DAYS} days")
    return DayRange(start, end)


def grouping(text: str | None) -> str:
    """The `groupBy` asked for (default `day`).

    Raises:
        InvalidRequest: When it is neither `day` nor `feature`.
    """
    value = (text or "day").strip()
    if value not in GROUPINGS:
        raise InvalidRequest("groupBy", "must be 'day' or 'feature'")
    return value


@dataclass(frozen=True)
class FeatureUsage:
    """What one feature used over the range."""

    feature: str
    credits: int
    uses: int


@dataclass(frozen=True)
class DayUsage:
    """What was used on one day, in total and per feature."""

    day: date
    credits: int
    uses: int
    by_feature: dict[str, int]


@dataclass(frozen=True)
class DayFlows:
    """Credits that moved on one day, by what they were, and what was left at its end.

    `bought`, `given` and `other` are added credits (other: adjustments and transfers, net);
    `used`, `expired` and `clawed_back` are credits taken, as positive numbers (net of
    rollovers and of clawbacks given back). `outstanding` is the balance at the end of the
    day, `debt` what was owed then.
    """

    day: date
    bought: int = 0
    given: int = 0
    used: int = 0
    expired: int = 0
    clawed_back: int = 0
    other: int = 0
    outstanding: int = 0
    debt: int = 0


@dataclass(frozen=True)
class UsageReport:
    """A user's usage over a range: per day (every day present), per feature, totals."""

    range: DayRange
    by_day: list[DayUsage]
    by_feature: list[FeatureUsage]
    credits: int
    uses: int

    @property
    def top_features(self) -> list[FeatureUsage]:
        """The features that used the most credits, most first."""
        return self.by_feature[:TOP_FEATURES]


@dataclass(frozen=True)
class FlowReport:
    """Credit flows per day over a range (every day present) and their totals."""

    range: DayRange
    by_day: list[DayFlows]
    totals: dict[str, int] = field(default_factory=dict)


def usage_report(*, session: Session, user_id: int, days: DayRange) -> UsageReport:
    """The user's usage from the rollup: per day and feature, per feature, in total.

    Raises:
        UserNotFound: When the user does not exist.
    """
    require_user(session, user_id)
    cells = rollups.usage_by_day_and_feature(
        session, user_id=user_id, first=days.first, last=days.last
    )
    per_feature: dict[str, list[int]] = {}
    per_day: dict[date, dict[str, int]] = {}
    uses_per_day: dict[date, int] = {}
    for (day, feature), (credits, uses) in cells.items():
        totals = per_feature.setdefault(feature, [0, 0])
        totals[0] += credits
        totals[1] += uses
        per_day.setdefault(day, {})[feature] = credits
        uses_per_day[day] = uses_per_day.get(day, 0) + uses
    by_feature = sorted(
        (FeatureUsage(f, c, u) for f, (c, u) in per_feature.items()),
        key=lambda item: (-item.credits, item.feature),
    )
    by_day = [
        DayUsage(
            day,
            sum(per_day.get(day, {}).values()),
            uses_per_day.get(day, 0),
            dict(sorted(per_day.get(day, {}).items())),
        )
        for day in days.days
    ]
    return UsageReport(
        range=days,
        by_day=by_day,
        by_feature=by_feature,
        credits=sum(item.credits for item in by_feature),
        uses=sum(item.uses for item in by_feature),
    )


def _flow_of(kind: str, source: str) -> tuple[str, int]:
    """Which flow an entry of this kind and source counts in, and its sign there."""
    if kind == EntryKind.GRANT:
        if source in PURCHASE_SOURCES:
            return "bought", 1
        if source in RESTORE_SOURCES:
            return "clawed_back", -1
        if source == ROLLOVER_SOURCE:
            return "expired", -1
        return "given", 1
    if kind in (EntryKind.SPEND, EntryKind.CAPTURE):
        return "used", -1
    if kind == EntryKind.EXPIRE:
        return "expired", -1
    if kind == EntryKind.CLAWBACK:
        return "clawed_back", -1
    return "other", 1


def flow_report(*, session: Session, days: DayRange, account_id: int | None = None) -> FlowReport:
    """Credit flows per day for one account, or for every account when it is None."""
    cells = rollups.flows_by_day(session, first=days.first, last=days.last, account_id=account_id)
    moved: dict[date, dict[str, int]] = {}
    net: dict[date, tuple[int, int]] = {}
    for (day, kind, source), (credits, debt) in cells.items():
        flow, sign = _flow_of(kind, source)
        flows = moved.setdefault(day, dict.fromkeys(FLOWS, 0))
        flows[flow] += sign * credits
        before = net.get(day, (0, 0))
        net[day] = (before[0] + credits, before[1] + debt)
    balance, debt = rollups.totals_before(session, day=days.first, account_id=account_id)
    by_day = []
    for day in days.days:
        credits, owed = net.get(day, (0, 0))
        balance += credits
        debt += owed
        by_day.append(
            DayFlows(day, **moved.get(day, dict.fromkeys(FLOWS, 0)), outstanding=balance, debt=debt)
        )
    totals = {name: sum(getattr(row, name) for row in by_day) for name in FLOWS}
    return FlowReport(range=days, by_day=by_day, totals=totals)


def user_flow_report(*, session: Session, user_id: int, days: DayRange) -> FlowReport:
    """One user's credit flows per day (bought against used, and the rest).

    Raises:
        UserNotFound: When the user does not exist.
    """
    require_user(session, user_id)
    query = select(accounts.c.id).where(accounts.c.user_id == user_id)
    account_id = session.exec(query).scalar_one_or_none()
    if account_id is None:  # nothing was ever granted: every day is zero
        by_day = [DayFlows(day) for day in days.days]
        return FlowReport(range=days, by_day=by_day, totals=dict.fromkeys(FLOWS, 0))
    return flow_report(session=session, days=days, account_id=account_id)
