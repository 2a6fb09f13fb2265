"""customer.subscription.*: keep the Subscription row at the newest state Stripe has."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from credits_app.models import Subscription
from credits_app.services.billing.handlers.context import EventContext, Handler, Lookup, user_from
from credits_app.services.billing.handlers.duplicates import settle_duplicates
from credits_app.services.billing.subscriptions import copy_state, fetch_subscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubscriptionFacts:
    """A subscription as Stripe has it now (None: Stripe does not know it any more)."""

    id: str
    data: dict[str, Any] | None


def fetch_subscription_facts(
    lookup: Lookup, subscription_id: str, fallback: Any = None
) -> SubscriptionFacts:
    """Re-fetch a subscription (fallback: the event's snapshot), settling duplicates first.

    Events arrive in any order and several share a second, so the event's own snapshot is
    not trusted: the re-fetched state is the newest by definition.
    """
    data = fetch_subscription(subscription_id) or fallback
    if data is not None:
        data = settle_duplicates(lookup, data)
    return SubscriptionFacts(subscription_id, data)


def store_subscription(ctx: EventContext, facts: SubscriptionFacts) -> None:
    """Store a subscription's state, unless this event is older than the state we hold."""
    # Locked: a concurrent delivery of an older event waits, then sees the newer state.
    row = ctx.session.get(Subscription, facts.id, with_for_update=True, populate_existing=True)
    if row is not None and ctx.created < row.stripe_state_at:
        logger.info("ignoring an older state of subscription %s", facts.id)
        return
    data = facts.data
    if data is None:
        return
    user_id = user_from(ctx.session, data.get("metadata"), data.get("customer"))
    if user_id is None and row is not None:
        user_id = row.user_id
    if user_id is None:
        ctx.ignore(f"subscription {facts.id} belongs to no user of ours")
        return
    row = row or Subscription(id=facts.id, user_id=user_id, status="", stripe_customer_id="")
    copy_state(row, data)
    row.stripe_state_at = max(row.stripe_state_at or 0, ctx.created)
    ctx.session.add(row)
    ctx.session.flush()


changed = Handler(
    prepare=lambda lookup: fetch_subscription_facts(lookup, lookup.obj["id"], lookup.obj),
    apply=lambda ctx: store_subscription(ctx, ctx.facts),
)
