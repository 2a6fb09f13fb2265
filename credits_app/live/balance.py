"""The balance shared by all tabs of one user, linked under an unguessable per-user token."""

from __future__ import annotations

import hashlib
import hmac

import reflex as rx

from credits_app.live.tabs import linked_tabs
from credits_app.settings import get_settings


def link_token(user_id: int) -> str:
    """Return the shared-state token of a user's tabs.

    It is an HMAC of the user id, so a browser cannot pick another user's token as its own
    client token and read their shared state. No underscores (Reflex forbids them).
    """
    secret = (get_settings().access_token_secret or "").encode()
    digest = hmac.new(secret, f"live-balance:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"live{digest[:40]}"


class LiveBalance(rx.SharedState):
    """Balance figures every tab of the user shows; `version` bumps on every change."""

    balance: int = 0
    available: int = 0
    version: int = 0

    def _apply(self, balance: int, available: int) -> None:
        if (balance, available) != (self.balance, self.available):
            self.balance, self.available = balance, available
            self.version += 1

    async def _link_to(self, token: str) -> LiveBalance:
        """Link this tab to `token`'s shared balance and remember the tab in this process."""
        linked = await super()._link_to(token)
        linked_tabs.add(self.rx_router_session.client_token, token)
        return linked

    async def _unlink(self):
        """Unlink this tab (logout) and forget it; returns Reflex's rehydrate events."""
        linked_tabs.remove(self.rx_router_session.client_token)
        return await super()._unlink()
