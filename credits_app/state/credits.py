"""The catalogue page: prices as plain rows, and starting a checkout."""

from __future__ import annotations

import reflex as rx

from credits_app.db import read_session, session_scope
from credits_app.services.billing.catalogue import PriceView, ensure_catalogue, list_prices
from credits_app.services.billing.checkout import start_checkout
from credits_app.services.billing.subscriptions import active_subscription
from credits_app.services.errors import CreditsError
from credits_app.state.auth import current_user_id, to_login, user_scoped
from credits_app.state.format import money, per_credit


def _row(price: PriceView, current_price: str | None) -> dict[str, str]:
    cadence = f"/ {price.interval}" if price.interval else "one-time"
    return {
        "id": price.id,
        "name": price.product_name,
        "kind": price.kind,
        "price": money(price.unit_amount, price.currency),
        "cadence": cadence,
        "credits": f"{price.included_credits:,}",
        "per_credit": per_credit(price.unit_amount, price.included_credits, price.currency),
        "current": "yes" if price.id == current_price else "",
        "featured": "yes" if price.featured else "",
    }


@user_scoped
class CreditsState(rx.State):
    """Packs and plans for sale; which plan the user has."""

    packs: list[dict[str, str]] = []
    plans: list[dict[str, str]] = []
    current_plan: str = ""
    loaded: bool = False
    buying: str = ""

    @rx.event
    async def load(self):
        """Sync the demo catalogue if empty, then read prices and the user's plan."""
        # Coming back from Checkout restores this tab's state: a purchase is no longer pending.
        self.buying = ""
        user_id = await current_user_id(self)
        if not user_id:
            return None  # the login check before this on_load already redirects
        with session_scope() as session:
            ensure_catalogue(session=session)
        with read_session() as session:
            sub = active_subscription(session=session, user_id=user_id)
            prices = list_prices(session=session)
        current = sub.price_id if sub else None
        self.current_plan = (sub.plan_name or "") if sub else ""
        self.packs = [_row(p, current) for p in prices if p.kind == "pack"]
        self.plans = [_row(p, current) for p in prices if p.kind != "pack"]
        self.loaded = True
        return None

    @rx.event
    async def buy(self, price_id: str):
        """Create a Checkout Session and send the browser to it."""
        if self.buying:
            return
        self.buying = price_id
        yield
        try:
            user_id = await current_user_id(self)
            if not user_id:
                self.buying = ""
                yield to_login(self)
                return
            with session_scope() as session:
                link = start_checkout(session=session, user_id=user_id, price_id=price_id)
            yield rx.redirect(link.url)  # another host: a full page load
        except CreditsError as exc:
            self.buying = ""
            yield rx.toast.error(exc.message, duration=6000)
