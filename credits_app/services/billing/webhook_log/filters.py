"""The webhook log's filters, read from what an admin typed, each refused in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from credits_app.models import DELIVERY_OUTCOMES
from credits_app.services.errors import InvalidRequest

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# Deep pages cost an ever longer scan; the filters are the way to older rows.
MAX_PAGE = 1000
_TYPE = re.compile(r"[a-z0-9_.]{1,128}")
_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
DATE_RULE = "must be a date (2026-11-29) or a date and time (2026-11-29T14:30, UTC)"


@dataclass(frozen=True)
class DeliveryFilters:
    """Which deliveries to list; None (or empty) means any.

    Attributes:
        outcome: One of `applied`, `duplicate`, `ignored`, `failed`.
        event_type: Part of the event type, e.g. `invoice` or `checkout.session.completed`.
        search: An event id or the id of the event's object, exactly.
        since: Received at or after this moment.
        until: Received before this moment.
    """

    outcome: str | None = None
    event_type: str | None = None
    search: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _moment(field: str, text: str, *, end_of_day: bool) -> datetime | None:
    """A date (its start, or with `end_of_day` the next day's start) or a date and time."""
    text = text.strip()
    if not text:
        return None
    try:
        if _DAY.fullmatch(text):
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return day + timedelta(days=1) if end_of_day else day
        if _MOMENT.fullmatch(text):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidRequest(field, f"is not a real date; it {DATE_RULE}") from None
    raise InvalidRequest(field, DATE_RULE)


def parse_filters(
    *,
    outcome: str = "",
    event_type: str = "",
    search: str = "",
    since: str = "",
    until: str = "",
) -> DeliveryFilters:
    """Read the filters as typed (empty means any); a date alone covers that whole day (UTC).

    Raises:
        InvalidRequest: Naming the filter (`outcome`, `type`, `search`, `since`, `until`)
            and what it should look like.
    """
    outcome = outcome.strip().lower()
    if outcome in ("", "all", "any"):
        outcome = ""
    elif outcome not in DELIVERY_OUTCOMES:
        raise InvalidRequest("outcome", f"must be one of {', '.join(DELIVERY_OUTCOMES)}")
    event_type = event_type.strip().lower()
    if event_type and not _TYPE.fullmatch(event_type):
        raise InvalidRequest("type", "must be (part of) an event type, e.g. invoice.paid")
    search = search.strip()
    if search and not _ID.fullmatch(search):
        raise InvalidRequest("search", "must be an event id (evt_...) or an object id (in_...)")
    start = _moment("since", since, end_of_day=False)
    end = _moment("until", until, end_of_day=True)
    if start and end and end <= start:
        raise InvalidRequest("until", "must be after since")
    return DeliveryFilters(outcome or None, event_type or None, search or None, start, end)


def page_bounds(page: object, page_size: object) -> tuple[int, int]:
    """The page number (from 1) and its size (1 to 100), checked.

    Raises:
        InvalidRequest: For a page outside 1..1000 or a size outside 1..100.
    """
    if type(page) is not int or not 1 <= page <= MAX_PAGE:
        raise InvalidRequest("page", f"must be a whole number from 1 to {MAX_PAGE}")
    if type(page_size) is not int or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest("page_size", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return page, page_size
