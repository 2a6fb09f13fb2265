"""Pull active products and prices from Stripe into the Product and Price tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from credits_app.models import Price, Product, utcnow
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.lots.policy import PERIOD, parse_policy
from credits_app.settings import get_settings

CREDITS_METADATA_KEY = "includedCredits"
EXPIRE_METADATA_KEY = "creditsExpireAfter"
ROLLOVER_METADATA_KEY = "rolloverMax"
MAX_CREDITS = 1_000_000_000
MAX_POLICY_LENGTH = 32  # the width of `price.credits_expire_after`


@dataclass
class SyncSummary:
    """What a sync did; `skipped` maps a price id to why it was not imported."""

    imported: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    missing_featured: list[str] = field(default_factory=list)


def included_credits(price: Any) -> tuple[int | None, str | None]:
    """Read `includedCredits` from a price's metadata: (credits, None) or (None, why not)."""
    raw = (price.get("metadata") or {}).get(CREDITS_METADATA_KEY)
    if raw is None:
        return None, f"no {CREDITS_METADATA_KEY} in the price metadata"
    try:
        credits = int(str(raw).strip())
    except ValueError:
        return None, f"{CREDITS_METADATA_KEY} is not an integer: {raw!r}"
    if not 1 <= credits <= MAX_CREDITS:
        return None, f"{CREDITS_METADATA_KEY} must be between 1 and {MAX_CREDITS}"
    return credits, None


def credit_terms(price: Any) -> tuple[str | None, int | None, str | None]:
    """Read `creditsExpireAfter` and `rolloverMax`: (expiry policy, rollover cap, problem).

    The policy is None when credits never expire (the default, as packs always were).
    `period` needs a recurring price (a pack has no billing period to end with), and
    `rolloverMax` needs `period` (only a period's unused credits can roll over).
    """
    metadata = price.get("metadata") or {}
    policy, problem = parse_policy(metadata.get(EXPIRE_METADATA_KEY))
    if problem:
        return None, None, f"{EXPIRE_METADATA_KEY}: {problem}"
    if policy is not None and len(policy) > MAX_POLICY_LENGTH:
        return None, None, f"{EXPIRE_METADATA_KEY} is longer than {MAX_POLICY_LENGTH} characters"
    if policy == PERIOD and not price.get("recurring"):
        return None, None, f"{EXPIRE_METADATA_KEY}=period needs a recurring price (a plan)"
    raw = metadata.get(ROLLOVER_METADATA_KEY)
    if raw is None or str(raw).strip() == "":
        return policy, None, None
    try:
        cap = int(str(raw).strip())
    except ValueError:
        return None, None, f"{ROLLOVER_METADATA_KEY} is not an integer: {raw!r}"
    if not 0 <= cap <= MAX_CREDITS:
        return None, None, f"{ROLLOVER_METADATA_KEY} must be between 0 and {MAX_CREDITS}"
    if policy != PERIOD:
        return None, None, f"{ROLLOVER_METADATA_KEY} needs {EXPIRE_METADATA_KEY}=period"
    return policy, cap, None


def fetch_active_prices() -> list[dict[str, Any]]:
    """Every active price (all pages) as plain dicts, with its product expanded."""
    client = get_stripe_client()
    params: Any = {"active": True, "limit": 100, "expand": ["data.product"]}
    with stripe_errors("list prices"):
        return [p.to_dict() for p in client.v1.prices.list(params).auto_paging_iter()]


def sync_prices(*, session: Session) -> SyncSummary:
    """Mirror Stripe's active catalogue; prices gone from Stripe are deactivated, not deleted.

    Raises:
        Unavailable: When Stripe cannot be reached; nothing is written.
    """
    prices = fetch_active_prices()
    try:
        summary = _apply(session, prices)
        session.commit()
    except IntegrityError:
        # A concurrent sync inserted the same rows first; once more sees them as updates.
        session.rollback()
        summary = _apply(session, prices)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    configured = get_settings().featured_price_ids.values()
    summary.missing_featured = [p for p in configured if p not in summary.imported]
    return summary


def _apply(session: Session, prices: list[Any]) -> SyncSummary:
    summary = SyncSummary()
    seen_products: set[str] = set()
    for price in prices:
        product = price.get("product")
        if isinstance(product, str) or not product or not product.get("active", True):
            summary.skipped[price["id"]] = "its product is not active"
            continue
        credits, problem = included_credits(price)
        if problem is None and price.get("unit_amount") is None:
            problem = "it has no fixed unit amount"
        if problem is None:
            problem = credit_terms(price)[2]
        if problem is not None:
            summary.skipped[price["id"]] = problem
            continue
        _upsert_product(session, product)
        seen_products.add(product["id"])
        _upsert_price(session, price, product["id"], credits)
        summary.imported.append(price["id"])
    summary.deactivated = _deactivate_missing(session, set(summary.imported), seen_products)
    return summary


def _upsert_product(session: Session, data: Any) -> None:
    row = session.get(Product, data["id"]) or Product(id=data["id"], name=data["name"])
    row.name = data["name"]
    row.description = (data.get("description") or "")[:1024] or None
    row.active = True
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


def _upsert_price(session: Session, data: Any, product_id: str, credits: int) -> None:
    recurring = data.get("recurring")
    policy, rollover, _ = credit_terms(data)
    values = {
        "product_id": product_id,
        "kind": "plan" if recurring else "pack",
        "interval": recurring["interval"] if recurring else None,
        "interval_count": recurring.get("interval_count") if recurring else None,
        "unit_amount": int(data["unit_amount"]),
        "currency": str(data["currency"]).lower(),
        "included_credits": credits,
        "credits_expire_after": policy,
        "rollover_max": rollover,
        "lookup_key": data.get("lookup_key"),
        "active": True,
        "updated_at": utcnow(),
    }
    row = session.get(Price, data["id"])
    if row is None:
        row = Price(id=data["id"], **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()


def _deactivate_missing(session: Session, price_ids: set[str], product_ids: set[str]) -> list[str]:
    gone = session.exec(select(Price).where(Price.active, Price.id.not_in(price_ids))).all()
    for row in gone:
        row.active = False
        row.updated_at = utcnow()
        session.add(row)
    for row in session.exec(select(Product).where(Product.active, Product.id.not_in(product_ids))):
        row.active = False
        row.updated_at = utcnow()
        session.add(row)
    session.flush()
    return sorted(row.id for row in gone)
