"""Log in, register and log out (a button: opening /logout never logs anyone out)."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import template
from credits_app.state.auth import AuthState


def callouts(error, notice=None) -> rx.Component:
    """A red callout for `error` and a green one for `notice`, when they are set."""
    parts = [
        rx.cond(
            error != "",
            rx.callout(error, icon="triangle-alert", color_scheme="red", id="auth-error"),
        )
    ]
    if notice is not None:
        parts.append(
            rx.cond(
                notice != "",
                rx.callout(notice, icon="mail-check", color_scheme="grass", id="auth-notice"),
            )
        )
    return rx.fragment(*parts)


def field(label: str, name: str, kind: str, autocomplete: str) -> rx.Component:
    """A labelled input; its id is its name."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(
            name=name,
            id=name,
            type=kind,
            required=True,
            auto_complete=autocomplete,
            size="3",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def auth_card(*children: rx.Component) -> rx.Component:
    """The narrow centred card of the account pages."""
    return rx.center(
        rx.card(
            rx.vstack(*children, spacing="4", width="100%"),
            width="100%",
            max_width="420px",
            size="4",
        ),
        padding_top=["1em", "3em"],
    )


def form(fields: list, button: str, on_submit, busy, button_id: str = "auth-submit"):
    """A form of `fields` and a submit button that spins while `busy`."""
    return rx.form(
        rx.vstack(
            *fields,
            rx.button(button, type="submit", size="3", width="100%", loading=busy, id=button_id),
            spacing="4",
            width="100%",
        ),
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )


@template(routes.LOGIN, "Log in", login_required=False)
def login_page() -> rx.Component:
    """Email and password."""
    fields = [
        field("Email", "email", "email", "username"),
        field("Password", "password", "password", "current-password"),
    ]
    return auth_card(
        rx.heading("Log in to Credits", size="6"),
        callouts(AuthState.error, AuthState.notice),
        form(fields, "Log in", AuthState.login, AuthState.busy),
        rx.text(
            rx.link("Forgot your password?", href=routes.FORGOT_PASSWORD, id="forgot-link"),
            " · New here? ",
            rx.link("Create an account", href=routes.REGISTER),
            size="2",
            align="center",
        ),
    )


@template(routes.REGISTER, "Create account", login_required=False)
def register_page() -> rx.Component:
    """Email, password twice; then "check your email", whoever owns the address."""
    fields = [
        field("Email", "email", "email", "username"),
        field("Password (8+ characters)", "password", "password", "new-password"),
        field("Repeat password", "confirm", "password", "new-password"),
    ]
    return auth_card(
        rx.heading("Create your account", size="6"),
        callouts(AuthState.error, AuthState.notice),
        rx.cond(
            AuthState.notice == "",
            form(fields, "Create account", AuthState.register, AuthState.busy),
        ),
        rx.text(
            "Already registered? ", rx.link("Log in", href=routes.LOGIN), size="2", align="center"
        ),
    )


@template(routes.LOGOUT, "Log out", login_required=False)
def logout_page() -> rx.Component:
    """A button; a link or an image pointing here logs nobody out."""
    return auth_card(
        rx.cond(
            AuthState.logged_in,
            rx.vstack(
                rx.heading("Log out", size="6"),
                rx.text("You are logged in as ", rx.text.strong(AuthState.user_email), "."),
                rx.button(
                    "Log out", on_click=AuthState.logout, size="3", width="100%", id="logout-button"
                ),
                spacing="4",
                width="100%",
            ),
            rx.vstack(
                rx.heading("You are logged out", size="6"),
                rx.link("Log in", href=routes.LOGIN),
                spacing="4",
            ),
        ),
    )
