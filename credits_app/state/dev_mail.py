"""The development mailbox page: what the app would have emailed (never in production)."""

from __future__ import annotations

import reflex as rx

from credits_app.services import outbox
from credits_app.settings import get_settings


class DevMailState(rx.State):
    """The newest outbox messages."""

    messages: list[dict[str, str]] = []

    @rx.event
    def load(self):
        """Read the outbox (dev mode only)."""
        if get_settings().is_production:
            self.messages = []
            return
        self.messages = [
            {
                "name": mail.name,
                "to": mail.to,
                "subject": mail.subject,
                "sent_at": mail.sent_at,
                "text": mail.text,
                "link": mail.links[0] if mail.links else "",
            }
            for mail in outbox.read()
        ]
