"""/dev/mail: the local outbox, for development without SMTP (not registered in production)."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import card, page_header, template
from credits_app.settings import ConfigError, get_settings
from credits_app.state.dev_mail import DevMailState


def _production() -> bool:
    try:
        return get_settings().is_production
    except ConfigError:
        return True


def _message(mail) -> rx.Component:
    return card(
        rx.hstack(
            rx.text(mail["subject"], weight="bold"),
            rx.spacer(),
            rx.text(mail["sent_at"], size="1", color_scheme="gray"),
            width="100%",
        ),
        rx.text("To: ", mail["to"], size="2", color_scheme="gray"),
        rx.cond(
            mail["link"] != "", rx.link(mail["link"], href=mail["link"], class_name="mail-link")
        ),
        rx.text(mail["text"], white_space="pre-wrap", size="2"),
        class_name="mail",
    )


def dev_mail_page() -> rx.Component:
    """The newest messages first, with their links clickable."""
    return rx.vstack(
        page_header("Outbox", "Mail the app sent while SMTP_URL is unset (dev only)."),
        rx.button("Refresh", on_click=DevMailState.load, variant="soft", size="1"),
        rx.cond(
            DevMailState.messages.length() > 0,
            rx.vstack(rx.foreach(DevMailState.messages, _message), width="100%", spacing="3"),
            rx.text("No mail yet.", color_scheme="gray"),
        ),
        width="100%",
    )


if not _production():
    template(routes.DEV_MAIL, "Outbox", login_required=False, on_load=[DevMailState.load])(
        dev_mail_page
    )
