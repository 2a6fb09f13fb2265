"""The account page: where you are logged in, and your password."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import card, page_header, template
from credits_app.pages.auth import field
from credits_app.state.account import AccountState
from credits_app.state.auth import AuthState


def _session_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(row["user_agent"], size="2", trim="both"),
            rx.cond(
                row["current"], rx.badge("this device", color_scheme="grass", class_name="current")
            ),
            max_width="420px",
        ),
        rx.table.cell(row["created"]),
        rx.table.cell(row["last_seen"]),
        rx.table.cell(
            rx.cond(
                row["current"],
                rx.text("—", color_scheme="gray"),
                rx.button(
                    "Log out",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=AccountState.end_session(row["id"]),
                    class_name="end-session",
                ),
            )
        ),
        class_name="session-row",
    )


def _sessions() -> rx.Component:
    return card(
        rx.hstack(
            rx.heading("Sessions", size="4"),
            rx.spacer(),
            rx.button(
                "Log out all other sessions",
                variant="soft",
                color_scheme="red",
                on_click=AccountState.end_other_sessions,
                id="end-other-sessions",
            ),
            width="100%",
            align="center",
        ),
        rx.cond(AccountState.message != "", rx.text(AccountState.message, id="sessions-message")),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Device"),
                        rx.table.column_header_cell("Logged in"),
                        rx.table.column_header_cell("Last active"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(AccountState.session_rows, _session_row)),
                width="100%",
                id="sessions",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.text(
            "A session ends after a period without activity, or at the latest some days after "
            "logging in; changing or resetting your password logs out the other devices.",
            size="1",
            color_scheme="gray",
        ),
    )


def _password() -> rx.Component:
    return card(
        rx.heading("Password", size="4"),
        rx.cond(
            AccountState.password_error != "",
            rx.callout(AccountState.password_error, color_scheme="red", id="password-error"),
        ),
        rx.cond(
            AccountState.password_notice != "",
            rx.callout(AccountState.password_notice, color_scheme="grass", id="password-notice"),
        ),
        rx.form(
            rx.vstack(
                field("Current password", "current_password", "password", "current-password"),
                field("New password (8+ characters)", "new_password", "password", "new-password"),
                field("Repeat new password", "confirm_password", "password", "new-password"),
                rx.button("Change password", type="submit", loading=AccountState.busy),
                spacing="3",
                max_width="420px",
                width="100%",
            ),
            on_submit=AccountState.change_password,
            reset_on_submit=True,
            id="password-form",
        ),
    )


@template(routes.ACCOUNT, "Account", on_load=[AccountState.load])
def account_page() -> rx.Component:
    """Email, sessions, password."""
    return rx.vstack(
        page_header("Account", "Signed in as " + AuthState.user_email),
        _sessions(),
        _password(),
        spacing="4",
        width="100%",
    )
