"""Pages behind emailed links: confirm an address, ask for a reset link, choose a password."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import loading, template
from credits_app.pages.auth import auth_card, callouts, field, form
from credits_app.state.email_links import ForgotPasswordState, ResetPasswordState, VerifyEmailState


@template(
    routes.VERIFY_EMAIL, "Confirm email", login_required=False, on_load=[VerifyEmailState.verify]
)
def verify_email_page() -> rx.Component:
    """Uses the link's token once, then invites the person to log in."""
    result = rx.vstack(
        rx.heading("Confirm your email", size="6"),
        rx.callout(
            VerifyEmailState.message,
            icon=rx.cond(VerifyEmailState.status == "verified", "circle-check", "triangle-alert"),
            color_scheme=rx.cond(VerifyEmailState.status == "verified", "grass", "red"),
            id="verify-result",
        ),
        rx.cond(
            VerifyEmailState.status == "verified",
            rx.link(rx.button("Log in", size="3"), href=routes.LOGIN, id="verify-login"),
            rx.link("Ask for a new link by logging in", href=routes.LOGIN),
        ),
        spacing="4",
        width="100%",
    )
    return auth_card(rx.cond(VerifyEmailState.status == "checking", loading(), result))


@template(
    routes.FORGOT_PASSWORD,
    "Forgot password",
    login_required=False,
    on_load=[ForgotPasswordState.start],
)
def forgot_password_page() -> rx.Component:
    """An email address; the same answer whether or not it has an account."""
    return auth_card(
        rx.heading("Reset your password", size="6"),
        rx.text("We will email you a link to choose a new password.", color_scheme="gray"),
        callouts(ForgotPasswordState.error, ForgotPasswordState.notice),
        rx.cond(
            ForgotPasswordState.notice == "",
            form(
                [field("Email", "email", "email", "username")],
                "Email me a link",
                ForgotPasswordState.request_link,
                ForgotPasswordState.busy,
            ),
        ),
        rx.link("Back to log in", href=routes.LOGIN, size="2"),
    )


@template(
    routes.RESET_PASSWORD,
    "Choose a password",
    login_required=False,
    on_load=[ResetPasswordState.check_link],
)
def reset_password_page() -> rx.Component:
    """The new password twice; using it logs out every device."""
    fields = [
        field("New password (8+ characters)", "password", "password", "new-password"),
        field("Repeat password", "confirm", "password", "new-password"),
    ]
    invalid = rx.vstack(
        rx.callout(
            "This link was already used or has expired.",
            icon="triangle-alert",
            color_scheme="red",
            id="reset-invalid",
        ),
        rx.link("Ask for a new link", href=routes.FORGOT_PASSWORD),
        spacing="3",
    )
    done = rx.vstack(
        rx.callout(
            "Your password is changed and every device was logged out.",
            icon="circle-check",
            color_scheme="grass",
            id="reset-done",
        ),
        rx.link(rx.button("Log in", size="3"), href=routes.LOGIN),
        spacing="3",
    )
    body = rx.cond(
        ResetPasswordState.done,
        done,
        rx.cond(
            ResetPasswordState.link_ok,
            rx.vstack(
                callouts(ResetPasswordState.error),
                form(
                    fields,
                    "Set password",
                    ResetPasswordState.set_new_password,
                    ResetPasswordState.busy,
                ),
                width="100%",
            ),
            invalid,
        ),
    )
    return auth_card(
        rx.heading("Choose a new password", size="6"),
        rx.cond(ResetPasswordState.checked, body, loading()),
    )
