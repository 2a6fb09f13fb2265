"""The webhook log as admins read it: filtered, newest first, one bounded page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from credits_app.models import StripeEvent, WebhookDelivery
from credits_app.services.billing.webhook_log.filters import (
    DEFAULT_PAGE_SIZE,
    DeliveryFilters,
    page_bounds,
)
from credits_app.services.users import require_admin_to

deliveries = WebhookDelivery.__table__
events = StripeEvent.__table__


@dataclass(frozen=True)
class DeliveryRow:
    """One logged delivery, without its payload.

    Attributes:
        processed_as: What `stripe_event` holds for the event id now (`applied`,
            `ignored`), or None when no delivery of it was ever processed: a failed
            delivery with `processed_as` set was processed since (Stripe retried, or an
            admin re-applied it).
        can_reapply: Whether it failed and its verified event is kept, so an admin may
            run it again.
    """

    id: int
    event_id: str
    type: str
    object_id: str | None
    api_version: str | None
    received_at: datetime
    outcome: str
    error: str | None
    duration_ms: int
    reapplied_by: int | None
    reapply_of: int | None
    processed_as: str | None
    can_reapply: bool


@dataclass(frozen=True)
class DeliveryPage:
    """One page of the log; `has_more` says whether an older page follows."""

    rows: list[DeliveryRow]
    page: int
    page_size: int
    has_more: bool


def _filtered(query, filters: DeliveryFilters):
    if filters.outcome:
        query = query.where(deliveries.c.outcome == filters.outcome)
    if filters.event_type:
        query = query.where(deliveries.c.type.contains(filters.event_type, autoescape=True))
    if filters.search:
        query = query.where(
            or_(deliveries.c.event_id == filters.search, deliveries.c.object_id == filters.search)
        )
    if filters.since:
        query = query.where(deliveries.c.received_at >= filters.since)
    if filters.until:
        query = query.where(deliveries.c.received_at < filters.until)
    return query


def list_deliveries(
    *,
    session: Session,
    admin_user_id: int,
    filters: DeliveryFilters | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> DeliveryPage:
    """The deliveries that match `filters`, newest first, page `page` of `page_size` rows.

    Raises:
        Forbidden: When `admin_user_id` is not an admin.
        InvalidRequest: For a page outside 1..1000 or a size outside 1..100.
    """
    require_admin_to(session=session, user_id=admin_user_id, action="see the webhook log")
    page, page_size = page_bounds(page, page_size)
    columns = [c for c in deliveries.c if c.name != "payload"]
    query = (
        select(
            *columns,
            events.c.outcome.label("processed_as"),
            deliveries.c.payload.is_not(None).label("has_payload"),
        )
        .select_from(deliveries.outerjoin(events, events.c.id == deliveries.c.event_id))
        .order_by(deliveries.c.received_at.desc(), deliveries.c.id.desc())
        .limit(page_size + 1)
        .offset((page - 1) * page_size)
    )
    found = session.execute(_filtered(query, filters or DeliveryFilters())).all()
    rows = [
        DeliveryRow(
            id=r.id,
            event_id=r.event_id,
            type=r.type,
            object_id=r.object_id,
            api_version=r.api_version,
            received_at=r.received_at,
            outcome=r.outcome,
            error=r.error,
            duration_ms=r.duration_ms,
            reapplied_by=r.reapplied_by,
            reapply_of=r.reapply_of,
            processed_as=r.processed_as,
            can_reapply=r.outcome == "failed" and bool(r.has_payload),
        )
        for r in found[:page_size]
    ]
    return DeliveryPage(rows, page, page_size, has_more=len(found) > page_size)
