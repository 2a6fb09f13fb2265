"""The landing page: what Credits is, and the way in."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import template
from credits_app.state.auth import AuthState

POINTS = (
    ("coins", "Buy credit packs or a plan", "Pay once or monthly; credits arrive in seconds."),
    ("sparkles", "Spend them on AI features", "See the cost before you run anything."),
    ("activity", "Watch it live", "Your balance updates on every tab the moment it changes."),
)


def _point(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=22, color=rx.color("accent", 10)),
            rx.heading(title, size="4"),
            rx.text(text, color_scheme="gray", size="2"),
            spacing="2",
        ),
        width="100%",
    )


@template(routes.HOME, "Welcome", login_required=False)
def home_page() -> rx.Component:
    """Hero, three selling points, and buttons to start."""
    start = rx.cond(
        AuthState.logged_in,
        rx.link(rx.button("Open your dashboard", size="3"), href=routes.DASHBOARD),
        rx.hstack(
            rx.link(rx.button("Create an account", size="3"), href=routes.REGISTER),
            rx.link(rx.button("Log in", size="3", variant="soft"), href=routes.LOGIN),
            spacing="3",
        ),
    )
    return rx.vstack(
        rx.heading("Credits for your AI product", size="8", align="center"),
        rx.text(
            "A self-hosted credit system: packs, plans, live balances and an honest ledger.",
            size="4",
            color_scheme="gray",
            align="center",
        ),
        start,
        rx.grid(
            *[_point(*p) for p in POINTS],
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
        align="center",
        padding_top="2em",
    )
