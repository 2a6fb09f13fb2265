"""The demo catalogue every fresh simulator starts with, under stable ids."""

from __future__ import annotations

from .objects import price, product
from .store import Store

# (key, product name, unit amount in cents, credits, recurring interval or None)
DEMO_CATALOGUE = (
    ("starter", "Starter Pack", 500, 100, None),
    ("pro", "Pro Pack", 2000, 500, None),
    ("enterprise", "Enterprise Pack", 6000, 2000, None),
    ("monthly", "Monthly Plan", 1500, 1000, "month"),
    ("yearly", "Yearly Plan", 15000, 15000, "year"),
)


def seed_catalog(store: Store) -> None:
    """Create the demo products and prices (`prod_sim_<key>`, `price_sim_<key>`).

    Args:
        store: The store to fill; existing objects with the same ids are replaced.
    """
    now = store.now()
    for key, name, amount, credits, interval in DEMO_CATALOGUE:
        per = f" per {interval}" if interval else ""
        prod = product(
            now,
            name,
            product_id=f"prod_sim_{key}",
            description=f"{credits:,} credits{per}",
            metadata={"includedCredits": str(credits)},
        )
        prod["default_price"] = f"price_sim_{key}"
        store.put(prod)
        store.put(
            price(
                now,
                prod["id"],
                amount,
                "usd",
                id=f"price_sim_{key}",
                recurring={"interval": interval, "interval_count": 1} if interval else None,
                lookup_key=f"credits_{key}",
                nickname=name,
                metadata={"includedCredits": str(credits)},
            )
        )
