"""Send a user to the Stripe Customer Portal to manage or cancel their subscription."""

from __future__ import annotations

import stripe
from sqlmodel import Session

from credits_app.db import per_statement_session
from credits_app.services.billing.customers import (
    customer_id_of,
    forget_customer,
    is_missing_customer,
)
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.errors import NotFound
from credits_app.settings import get_settings


class NoBillingAccount(NotFound):
    """Raised when a user who never bought anything asks for the billing portal."""

    def __init__(self) -> None:
        super().__init__("no billing account yet: buy a pack or a plan first")


def portal_url(*, session: Session, user_id: int) -> str:
    """Create a billing portal session for the user and return its URL.

    Raises:
        NoBillingAccount: When the user has no Stripe customer yet.
        Unavailable: When Stripe cannot be reached.
    """
    with per_statement_session(session.get_bind()) as reader:
        customer = customer_id_of(session=reader, user_id=user_id)
    if customer is None:
        raise NoBillingAccount()
    params = {"customer": customer, "return_url": get_settings().billing_portal_return_url}
    with stripe_errors("open the billing portal"):
        try:
            created = get_stripe_client().v1.billing_portal.sessions.create(params)
        except stripe.InvalidRequestError as exc:
            if not is_missing_customer(exc):
                raise
            forget_customer(session=session, user_id=user_id)
            raise NoBillingAccount() from exc
    return created.url
