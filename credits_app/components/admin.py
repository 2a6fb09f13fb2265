"""What every admin page shares: the 403 page, the admin tab bar and the admin-only shell."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import card
from credits_app.state.auth import AuthState

# The admin pages in the order of the tab bar: label, route, icon.
ADMIN_TABS = (
    ("Users", routes.ADMIN_USERS, "users"),
    ("Grant", routes.ADMIN_GRANT, "gift"),
    ("Reconcile", routes.ADMIN_RECONCILE, "scale"),
    ("Webhooks", routes.ADMIN_WEBHOOKS, "webhook"),
    ("Analytics", routes.ADMIN_ANALYTICS, "chart-column"),
)


def forbidden() -> rx.Component:
    """The 403 page."""
    return rx.center(
        card(
            rx.heading("403 — Admins only", size="7", id="forbidden"),
            rx.text("You are logged in, but this page is for administrators."),
            rx.link(rx.button("Back to your dashboard"), href=routes.DASHBOARD),
            max_width="480px",
        ),
        padding_top="3em",
    )


def admin_tabs(current: str) -> rx.Component:
    """The row of admin page links; `current` (a route) is highlighted."""
    return rx.hstack(
        *[
            rx.link(
                rx.button(
                    rx.icon(icon, size=14),
                    label,
                    size="1",
                    variant="solid" if route == current else "soft",
                ),
                href=route,
                id=f"admin-tab-{label.lower()}",
            )
            for label, route, icon in ADMIN_TABS
        ],
        spacing="2",
        wrap="wrap",
        margin_bottom="0.5em",
    )


def admin_only(current: str, body: rx.Component) -> rx.Component:
    """The admin tab bar over `body` for admins, the 403 page for everyone else."""
    return rx.cond(
        AuthState.is_admin,
        rx.vstack(admin_tabs(current), body, spacing="3", width="100%"),
        forbidden(),
    )
