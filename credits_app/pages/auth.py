"""Log in, register and log out."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import loading, template
from credits_app.state.auth import AuthState


def _error() -> rx.Component:
    return rx.cond(
        AuthState.error != "",
        rx.callout(AuthState.error, icon="triangle-alert", color_scheme="red", id="auth-error"),
    )


def _field(label: str, name: str, kind: str, autocomplete: str) -> rx.Component:
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


def _auth_card(title: str, fields: list, button: str, on_submit, footer) -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(title, size="6"),
                    _error(),
                    *fields,
                    rx.button(
                        button,
                        type="submit",
                        size="3",
                        width="100%",
                        loading=AuthState.busy,
                        id="auth-submit",
                    ),
                    footer,
                    spacing="4",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            width="100%",
            max_width="420px",
            size="4",
        ),
        padding_top=["1em", "3em"],
    )


@template(routes.LOGIN, "Log in", login_required=False)
def login_page() -> rx.Component:
    """Email and password."""
    footer = rx.text(
        "New here? ", rx.link("Create an account", href=routes.REGISTER), size="2", align="center"
    )
    fields = [
        _field("Email", "email", "email", "username"),
        _field("Password", "password", "password", "current-password"),
    ]
    return _auth_card("Log in to Credits", fields, "Log in", AuthState.login, footer)


@template(routes.REGISTER, "Create account", login_required=False)
def register_page() -> rx.Component:
    """Email, password twice."""
    footer = rx.text(
        "Already registered? ", rx.link("Log in", href=routes.LOGIN), size="2", align="center"
    )
    fields = [
        _field("Email", "email", "email", "username"),
        _field("Password (8+ characters)", "password", "password", "new-password"),
        _field("Repeat password", "confirm", "password", "new-password"),
    ]
    return _auth_card("Create your account", fields, "Create account", AuthState.register, footer)


@rx.page(route=routes.LOGOUT, title="Logging out · Credits", on_load=AuthState.logout)
def logout_page() -> rx.Component:
    """Ends the session on load, then redirects to the login page."""
    return loading("Logging out…")
