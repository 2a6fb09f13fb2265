"""The price catalogue as the app shows it: packs and plans with the credits they include."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from sqlmodel import Session, select

from credits_app.models import Price, Product
from credits_app.services.billing.catalogue_sync import SyncSummary, sync_prices
from credits_app.services.errors import CreditsError
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)
RETRY_AFTER_FAILURE_SECONDS = 30.0
# When a sync from each simulator address last failed.
_failed_at: dict[str, float] = {}

__all__ = ["PriceView", "SyncSummary", "ensure_catalogue", "list_prices", "sync_prices"]


@dataclass(frozen=True)
class PriceView:
    """One purchasable price; `kind` is `pack` (one-time) or `plan` (recurring)."""

    id: str
    product_name: str
    kind: str
    interval: str | None
    unit_amount: int
    currency: str
    included_credits: int
    featured: bool


def list_prices(*, session: Session) -> list[PriceView]:
    """Return the active catalogue: packs first, then plans, cheapest first."""
    featured = set(get_settings().featured_price_ids.values())
    query = (
        select(Price, Product)
        .join(Product, Product.id == Price.product_id)
        .where(Price.active, Product.active)
        .order_by(Price.kind, Price.unit_amount, Price.id)
    )
    return [
        PriceView(
            id=price.id,
            product_name=product.name,
            kind=price.kind,
            interval=price.interval,
            unit_amount=price.unit_amount,
            currency=price.currency,
            included_credits=price.included_credits,
            featured=price.id in featured,
        )
        for price, product in session.exec(query)
    ]


def find_active_price(*, session: Session, price_id: str) -> Price | None:
    """Return the active price with this id (its product active too), or None."""
    price = session.get(Price, price_id)
    if price is None or not price.active:
        return None
    product = session.get(Product, price.product_id)
    return price if product is not None and product.active else None


def ensure_catalogue(*, session: Session) -> SyncSummary | None:
    """Sync the catalogue once when it is empty, in simulated mode only.

    A fresh install with no keys then shows the simulator's demo catalogue without any
    setup. A failure is logged, not raised: an empty catalogue must not break a page.
    """
    settings = get_settings()
    if settings.payments_mode != "simulated":
        return None
    base = settings.stripe_api_base or ""
    if time.monotonic() - _failed_at.get(base, -math.inf) < RETRY_AFTER_FAILURE_SECONDS:
        return None  # the simulator was just down; don't make every page wait for it again
    has_prices = session.exec(select(Price.id).where(Price.active).limit(1)).first()
    session.rollback()  # end the read: no transaction stays open while Stripe answers
    if has_prices is not None:
        return None
    try:
        return sync_prices(session=session)
    except CreditsError as exc:
        session.rollback()
        _failed_at[base] = time.monotonic()
        logger.warning("could not sync the catalogue from the simulator: %s", exc.message)
        return None
