"""Start a Stripe Checkout session for a pack (one-time payment) or a plan (subscription)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from sqlmodel import Session

from credits_app.db import per_statement_session
from credits_app.models import Price, Subscription
from credits_app.services.billing.catalogue import ensure_catalogue, find_active_price
from credits_app.services.billing.customers import (
    ensure_customer,
    forget_customer,
    is_missing_customer,
)
from credits_app.services.billing.open_sessions import expire_open_plan_sessions
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.billing.subscriptions import (
    ACTIVE_STATUSES,
    active_subscription,
    copy_state,
    fetch_subscription,
)
from credits_app.services.errors import CreditsError, InvalidRequest
from credits_app.settings import get_settings

PORTAL_LINK_PATH = "/api/billing/portal-link"


@dataclass(frozen=True)
class CheckoutLink:
    """A Checkout session to send the user to."""

    id: str
    url: str


class AlreadySubscribed(CreditsError):
    """Raised when a user with an active subscription asks to buy another plan."""

    code = "already_subscribed"
    http_status = 409

    def __init__(self, subscription_id: str) -> None:
        super().__init__(
            "you already have an active subscription; change or cancel it in the billing portal"
        )
        self.subscription_id = subscription_id

    def details(self) -> dict[str, Any]:  # noqa: D102 (documented on CreditsError)
        return {"subscriptionId": self.subscription_id, "portal": PORTAL_LINK_PATH}


def checkout_urls() -> tuple[str, str]:
    """The success and cancel URLs, built from SITE_URL."""
    site = get_settings().site_url.rstrip("/")
    return f"{site}/credits/success?session_id={{CHECKOUT_SESSION_ID}}", f"{site}/credits/cancel"


def _still_active(session: Session, subscription_id: str) -> bool:
    """Ask Stripe before refusing: a missed webhook or a reset simulator may leave us stale."""
    data = fetch_subscription(subscription_id)  # before the write transaction begins
    row = session.get(Subscription, subscription_id)
    if data is None:
        row.status = "canceled"  # Stripe no longer knows it (a restarted simulator)
    else:
        copy_state(row, data)
    session.add(row)
    session.commit()
    return row.status in ACTIVE_STATUSES


def _price_and_plan(session: Session, user_id: int, price_id: str) -> tuple[Price, Any]:
    """The active price asked for, and the user's current plan if it is a plan."""
    with per_statement_session(session.get_bind()) as reader:
        price = find_active_price(session=reader, price_id=price_id)
    if price is None and ensure_catalogue(session=session) is not None:
        with per_statement_session(session.get_bind()) as reader:
            price = find_active_price(session=reader, price_id=price_id)
    if price is None:
        raise InvalidRequest("priceId", "unknown or inactive price")
    if price.kind != "plan":
        return price, None
    with per_statement_session(session.get_bind()) as reader:
        return price, active_subscription(session=reader, user_id=user_id)


def start_checkout(*, session: Session, user_id: int, price_id: Any) -> CheckoutLink:
    """Create a Checkout session for one unit of an active price, for this user.

    Every Stripe call happens outside a transaction: reads commit statement by statement
    and each write starts only after Stripe has answered, so a slow Stripe never holds a
    lock other writers wait for. A plan checkout first expires the user's other open plan
    sessions, so only the newest one can be paid.

    Raises:
        InvalidRequest: When the price is unknown or inactive (field `priceId`).
        AlreadySubscribed: When the price is a plan and the user already has one.
        UserNotFound: When the user does not exist.
        Unavailable: When Stripe cannot be reached.
    """
    if not isinstance(price_id, str) or not price_id.strip() or len(price_id) > 255:
        raise InvalidRequest("priceId", "must be the id of a price from the catalogue")
    price, current = _price_and_plan(session, user_id, price_id.strip())
    is_plan = price.kind == "plan"
    if current is not None and _still_active(session, current.id):
        raise AlreadySubscribed(current.id)
    customer = ensure_customer(session=session, user_id=user_id)
    if is_plan:
        expire_open_plan_sessions(customer)
    metadata = {
        "user_id": str(user_id),
        "price_id": price.id,
        "included_credits": str(price.included_credits),
    }
    success_url, cancel_url = checkout_urls()
    params: dict[str, Any] = {
        "mode": "subscription" if is_plan else "payment",
        "customer": customer,
        "client_reference_id": str(user_id),
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
    }
    if is_plan:
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
    client = get_stripe_client()
    with stripe_errors("create a checkout session"):
        try:
            created = client.v1.checkout.sessions.create(params)
        except stripe.InvalidRequestError as exc:
            if not is_missing_customer(exc):
                raise
            # Our customer row outlived the Stripe customer: start over with a new one.
            forget_customer(session=session, user_id=user_id)
            params["customer"] = ensure_customer(
                session=session, user_id=user_id, replacing=customer
            )
            created = client.v1.checkout.sessions.create(params)
    return CheckoutLink(id=created.id, url=created.url)
