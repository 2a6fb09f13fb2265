"""/credits/success and /credits/cancel: what happens next after Stripe Checkout."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import card, template
from credits_app.components.live_refresh import on_balance_change
from credits_app.live.balance import LiveBalance
from credits_app.state.purchase import PurchaseState


def _arrived() -> rx.Component:
    return rx.callout(
        PurchaseState.credited.to_string() + " credits were added to your account.",
        icon="circle-check",
        color_scheme="grass",
        id="purchase-arrived",
    )


def _waiting() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.spinner()),
        rx.callout.text(
            "Payment received. Your credits arrive in a few seconds; this page updates by itself."
        ),
        id="purchase-waiting",
    )


@template(routes.CREDITS_SUCCESS, "Thank you", on_load=[PurchaseState.load])
def success_page() -> rx.Component:
    """Waits for the webhook's credits and says when they arrived."""
    return rx.center(
        card(
            rx.heading("Thank you for your purchase", size="6"),
            rx.cond(PurchaseState.credited > 0, _arrived(), _waiting()),
            rx.text(
                "Your balance is now ",
                rx.text.strong(LiveBalance.balance),
                " credits. It updates by itself on every open tab.",
            ),
            rx.text(
                "Subscriptions add their credits every billing period; see the dashboard.",
                color_scheme="gray",
                size="2",
            ),
            rx.hstack(
                rx.link(rx.button("Go to dashboard"), href=routes.DASHBOARD),
                rx.link(rx.button("Try the example AI", variant="soft"), href=routes.EXAMPLE_AI),
                spacing="3",
                wrap="wrap",
            ),
            on_balance_change(PurchaseState.recheck),
            max_width="560px",
        ),
        padding_top="2em",
    )


@template(routes.CREDITS_CANCEL, "Checkout cancelled")
def cancel_page() -> rx.Component:
    """Nothing was charged; the way back to the catalogue."""
    return rx.center(
        card(
            rx.heading("Checkout cancelled", size="6"),
            rx.text("You were not charged and no credits were added."),
            rx.text(
                "You can pick another pack or plan whenever you like.",
                color_scheme="gray",
                size="2",
            ),
            rx.link(rx.button("Back to credits"), href=routes.CREDITS),
            max_width="560px",
        ),
        padding_top="2em",
    )
