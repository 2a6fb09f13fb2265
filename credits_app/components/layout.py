"""The page template: registers a route with title and on_load, wraps it in the nav shell."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from credits_app.components.nav import navbar
from credits_app.state.auth import AuthState

PageFn = Callable[[], rx.Component]


def loading(label: str = "Loading…") -> rx.Component:
    """A centred spinner with a label."""
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(label, color_scheme="gray")),
        padding_y="4em",
        width="100%",
    )


def page_header(title: str, subtitle: str = "") -> rx.Component:
    """The heading block at the top of a page."""
    return rx.vstack(
        rx.heading(title, size="7"),
        rx.cond(subtitle != "", rx.text(subtitle, color_scheme="gray", size="3")),
        spacing="1",
        margin_bottom="1em",
    )


def card(*children: rx.Component, **props) -> rx.Component:
    """A padded card that fills the width."""
    return rx.card(rx.vstack(*children, spacing="3", width="100%"), width="100%", **props)


def template(
    route: str,
    title: str,
    *,
    on_load: list | None = None,
    login_required: bool = True,
) -> Callable[[PageFn], PageFn]:
    """Register a page: the nav shell, a title, the login check, then the page's on_load.

    Args:
        route: The path from `routes`.
        title: Shown in the browser tab as "title · Credits".
        on_load: Events run after the login check.
        login_required: Whether strangers are sent to the login page first.
    """
    check = AuthState.check_login if login_required else AuthState.check_optional

    def decorator(page: PageFn) -> PageFn:
        def shell() -> rx.Component:
            body = page()
            if login_required:
                body = rx.cond(AuthState.logged_in, body, loading())
            return rx.box(
                navbar(),
                rx.box(
                    body,
                    max_width="1100px",
                    margin_x="auto",
                    padding_x=["0.9em", "1.5em"],
                    padding_y="1.5em",
                    width="100%",
                ),
                min_height="100vh",
                background=rx.color("gray", 2),
            )

        shell.__name__ = page.__name__
        rx.page(route=route, title=f"{title} · Credits", on_load=[check, *(on_load or [])])(shell)
        return page

    return decorator
