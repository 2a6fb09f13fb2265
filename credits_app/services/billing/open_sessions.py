"""One plan per user: close a customer's other open plan Checkout sessions at Stripe."""

from __future__ import annotations

import logging

import stripe

from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors

logger = logging.getLogger(__name__)


def expire_open_plan_sessions(customer: str, keep: str | None = None) -> list[str]:
    """Expire every open subscription-mode Checkout session of a customer except `keep`.

    Checkout sessions stay payable for 24 hours, so without this a user could open two
    plan checkouts and pay both.

    Returns:
        The ids of the sessions expired now.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    client = get_stripe_client()
    expired = []
    with stripe_errors("expire open checkout sessions"):
        listed = client.v1.checkout.sessions.list(
            {"customer": customer, "status": "open", "limit": 100}
        )
        for session in listed.auto_paging_iter():
            if session.mode != "subscription" or session.id == keep:
                continue
            try:
                client.v1.checkout.sessions.expire(session.id)
                expired.append(session.id)
            except stripe.InvalidRequestError:
                logger.info("checkout session %s closed before we could expire it", session.id)
    return expired
