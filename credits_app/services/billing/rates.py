"""What one unit of a price costs and how many credits it includes, for webhook handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import stripe
from sqlmodel import Session, select

from credits_app.models import Price, Product
from credits_app.services.billing.catalogue_sync import (
    CREDITS_METADATA_KEY,
    credit_terms,
    included_credits,
)
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.errors import Unavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """A price of ours: its unit amount, the credits per unit and a name for the ledger.

    `expire_after` says how long its credits last (None for never, "period", or an ISO 8601
    duration); `rollover_max` what a plan period may carry into the next.
    """

    unit_amount: int
    included_credits: int
    name: str
    expire_after: str | None = None
    rollover_max: int | None = None


def rates_for(db: Session, price_ids: Iterable[str | None]) -> dict[str, Rate | None]:
    """Look up each price: in the synced catalogue first, else from Stripe.

    A price without `includedCredits` is not one of ours and maps to None.

    Raises:
        Unavailable: When Stripe cannot be reached, or a price names `includedCredits` but
            its value is unusable: the operator must fix the metadata, and Stripe retries.
    """
    wanted = {p for p in price_ids if p}
    found: dict[str, Rate | None] = {}
    if wanted:
        query = (
            select(Price, Product)
            .join(Product, Product.id == Price.product_id, isouter=True)
            .where(Price.id.in_(wanted))
        )
        for price, product in db.exec(query):
            name = product.name if product else price.id
            found[price.id] = Rate(
                price.unit_amount,
                price.included_credits,
                name,
                price.credits_expire_after,
                price.rollover_max,
            )
    for price_id in sorted(wanted - found.keys()):
        found[price_id] = _fetch_rate(price_id)
    return found


def _fetch_rate(price_id: str) -> Rate | None:
    with stripe_errors("look up a price"):
        try:
            price = get_stripe_client().v1.prices.retrieve(price_id).to_dict()
        except stripe.InvalidRequestError:
            return None  # not a price of this account (any more)
    credits, problem = included_credits(price)
    if credits is None:
        if CREDITS_METADATA_KEY in (price.get("metadata") or {}):
            logger.error("price %s cannot grant credits: %s", price_id, problem)
            raise Unavailable(f"price {price_id} cannot grant credits: {problem}")
        return None
    if not isinstance(price.get("unit_amount"), int):
        logger.error("price %s has no fixed unit amount; it grants nothing", price_id)
        return None
    policy, rollover, problem = credit_terms(price)
    if problem:
        logger.error("price %s cannot grant credits: %s", price_id, problem)
        raise Unavailable(f"price {price_id} cannot grant credits: {problem}")
    return Rate(price["unit_amount"], credits, price.get("nickname") or price_id, policy, rollover)
