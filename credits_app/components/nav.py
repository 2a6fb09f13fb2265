"""The navigation bar on every page: links, live balance (id="balance"), Account, Log out."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.live.balance import LiveBalance
from credits_app.state.auth import AuthState

LINKS = (
    ("Dashboard", routes.DASHBOARD, "layout-dashboard"),
    ("Buy credits", routes.CREDITS, "shopping-cart"),
    ("Example AI", routes.EXAMPLE_AI, "sparkles"),
    ("Analytics", routes.ANALYTICS, "chart-column"),
)


def balance_badge() -> rx.Component:
    """The user's balance; scripts find it by id and read the integer in its text."""
    return rx.badge(
        rx.icon("coins", size=14),
        rx.text(LiveBalance.balance, " credits", id="balance", as_="span"),
        size="2",
        variant="soft",
        color_scheme="grass",
        radius="full",
        padding_x="0.7em",
    )


def _link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label), spacing="1", align="center"),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        size="2",
    )


def _mobile_menu() -> rx.Component:
    items = [rx.menu.item(label, on_click=rx.redirect(href)) for label, href, _ in LINKS]
    admin = rx.menu.item("Admin", on_click=rx.redirect(routes.ADMIN_USERS))
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Menu")),
        rx.menu.content(
            *items,
            rx.cond(AuthState.is_admin, admin),
            rx.menu.separator(),
            rx.menu.item("Account", on_click=rx.redirect(routes.ACCOUNT)),
            rx.menu.item("Log out", on_click=AuthState.logout, color="red"),
        ),
    )


def _user_area() -> rx.Component:
    return rx.cond(
        AuthState.logged_in,
        rx.hstack(
            balance_badge(),
            rx.hstack(
                rx.link(
                    "Account", href=routes.ACCOUNT, size="2", color_scheme="gray", id="nav-account"
                ),
                rx.button(
                    "Log out",
                    on_click=AuthState.logout,
                    size="1",
                    variant="ghost",
                    color_scheme="gray",
                    id="nav-logout",
                ),
                spacing="3",
                align="center",
                display=["none", "none", "flex"],
            ),
            rx.box(_mobile_menu(), display=["block", "block", "none"]),
            spacing="3",
            align="center",
        ),
        rx.hstack(
            rx.link(rx.button("Log in", variant="soft", size="2"), href=routes.LOGIN),
            rx.link(rx.button("Sign up", size="2"), href=routes.REGISTER),
            spacing="2",
        ),
    )


def navbar() -> rx.Component:
    """Brand, page links (a menu on phones), balance and the account actions."""
    links = rx.hstack(
        *[_link(*link) for link in LINKS],
        rx.cond(AuthState.is_admin, _link("Admin", routes.ADMIN_USERS, "shield")),
        spacing="5",
        display=["none", "none", "flex"],
    )
    brand = rx.link(
        rx.hstack(rx.icon("gem", color=rx.color("accent", 10)), rx.heading("Credits", size="5")),
        href=routes.HOME,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
    )
    return rx.box(
        rx.hstack(
            brand,
            rx.cond(AuthState.logged_in, links),
            rx.spacer(),
            _user_area(),
            align="center",
            spacing="5",
            max_width="1100px",
            margin_x="auto",
            padding_x=["0.9em", "1.5em"],
            padding_y="0.75em",
        ),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
    )
