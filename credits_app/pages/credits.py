"""/credits: packs and plans with price per credit; buying goes to Stripe Checkout."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import loading, page_header, template
from credits_app.state.credits import CreditsState


def _price_card(row: rx.Var) -> rx.Component:
    current = row["current"] == "yes"
    badge = rx.cond(
        current,
        rx.badge("Your plan", color_scheme="grass", variant="solid"),
        rx.cond(row["featured"] == "yes", rx.badge("Popular", variant="soft")),
    )
    button = rx.button(
        rx.cond(current, "Current plan", rx.cond(row["kind"] == "pack", "Buy", "Subscribe")),
        on_click=CreditsState.buy(row["id"]),
        loading=CreditsState.buying == row["id"],
        disabled=current | (CreditsState.buying != ""),
        width="100%",
        size="3",
        id="buy-" + row["id"].to(str),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(row["name"], size="5"), rx.spacer(), badge, width="100%"),
            rx.hstack(
                rx.text(row["price"], size="7", weight="bold"),
                rx.text(row["cadence"], color_scheme="gray", size="2"),
                align="baseline",
                spacing="2",
            ),
            rx.text(rx.text.strong(row["credits"]), " credits", size="3"),
            rx.text(row["per_credit"], " per credit", color_scheme="gray", size="2"),
            rx.spacer(),
            button,
            spacing="2",
            height="100%",
        ),
        width="100%",
        class_name="price-card",
        border=rx.cond(current, f"2px solid {rx.color('grass', 8)}", "none"),
    )


def _section(title: str, rows: rx.Var, note: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="5"),
        rx.text(note, color_scheme="gray", size="2"),
        rx.grid(
            rx.foreach(rows, _price_card),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


@template(routes.CREDITS, "Buy credits", on_load=[CreditsState.load])
def credits_page() -> rx.Component:
    """The catalogue from the synced prices."""
    body = rx.vstack(
        _section("Credit packs", CreditsState.packs, "Pay once; credits never expire."),
        rx.cond(
            CreditsState.plans.length() > 0,
            _section(
                "Plans",
                CreditsState.plans,
                "Credits every billing period; cancel any time in the billing portal.",
            ),
        ),
        rx.cond(
            (CreditsState.packs.length() == 0) & (CreditsState.plans.length() == 0),
            rx.callout("No prices yet: an admin has to sync the catalogue.", icon="info"),
        ),
        spacing="6",
        width="100%",
    )
    return rx.vstack(
        page_header("Buy credits", "Payments are handled by Stripe Checkout."),
        rx.cond(CreditsState.loaded, body, loading("Loading prices…")),
        width="100%",
    )
