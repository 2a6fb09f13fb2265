"""customer.subscription.*: keep the Subscription row at the newest state Stripe has."""

from __future__ import annotations

import logging
from typing import Any

from credits_app.models import Subscription
from credits_app.services.billing.handlers.context import EventContext, user_from
from credits_app.services.billing.subscriptions import copy_state, fetch_subscription

logger = logging.getLogger(__name__)


def changed(ctx: EventContext) -> None:
    """Sync a created, updated or deleted subscription.

    Events arrive in any order and several share a second, so the event's own snapshot is
    not trusted: an event older than the state we hold is ignored, any other one makes us
    re-fetch the subscription, which is the newest state by definition.
    """
    sync_subscription(ctx, ctx.obj["id"], fallback=ctx.obj)


def sync_subscription(ctx: EventContext, subscription_id: str, fallback: Any = None) -> None:
    """Re-fetch a subscription from Stripe and store it (fallback: the event's snapshot)."""
    # Locked: a concurrent delivery of an older event waits, then sees the newer state.
    row = ctx.session.get(
        Subscription, subscription_id, with_for_update=True, populate_existing=True
    )
    if row is not None and ctx.created < row.stripe_state_at:
        logger.info("ignoring an older state of subscription %s", subscription_id)
        return
    data = fetch_subscription(subscription_id) or fallback
    if data is None:
        return
    user_id = user_from(ctx, data.get("metadata"), data.get("customer"))
    if user_id is None and row is not None:
        user_id = row.user_id
    if user_id is None:
        logger.warning("subscription %s belongs to no user of ours", subscription_id)
        return
    row = row or Subscription(id=subscription_id, user_id=user_id, status="", stripe_customer_id="")
    copy_state(row, data)
    row.stripe_state_at = max(row.stripe_state_at or 0, ctx.created)
    ctx.session.add(row)
    ctx.session.flush()
