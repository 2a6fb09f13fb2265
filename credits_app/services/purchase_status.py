"""Whether the credits of one Checkout Session have arrived, for the success page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from credits_app.models import StripePayment, utcnow
from credits_app.services.journal import entries

# A plan's first credits come from its invoice, not the session: recent ones count.
RECENT_PLAN_GRANT = timedelta(minutes=15)


def credits_from_checkout(*, session: Session, user_id: int, checkout_session_id: str) -> int:
    """Return the credits granted to this user for the checkout session (0 while pending).

    A pack's grant carries the session id as its source_ref (source "stripe_checkout"); a
    plan's first credits come from its invoice, so a recent invoice grant counts for plans.
    Only the user's own rows are read.
    """
    if not checkout_session_id or len(checkout_session_id) > 255:
        return 0
    paid = session.exec(
        select(func.coalesce(func.sum(StripePayment.credits), 0)).where(
            StripePayment.user_id == user_id, StripePayment.source_ref == checkout_session_id
        )
    ).scalar_one()
    if paid:
        return int(paid)
    total = select(func.coalesce(func.sum(entries.c.amount), 0)).where(
        entries.c.user_id == user_id, entries.c.kind == "grant"
    )
    granted = session.exec(total.where(entries.c.source_ref == checkout_session_id)).scalar_one()
    if granted:
        return int(granted)
    recent = total.where(
        entries.c.source == "stripe_invoice", entries.c.created_at >= utcnow() - RECENT_PLAN_GRANT
    )
    return int(session.exec(recent).scalar_one())
