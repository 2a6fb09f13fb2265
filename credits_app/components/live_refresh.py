"""Re-run a page's loader whenever the user's balance changes, without polling.

A hidden box is keyed by the shared balance version: when a push bumps it, React mounts a
fresh subtree and the inner element's on_mount fires the event on this tab only. (The key
sits on the parent because Reflex memoizes the element that has the event trigger.)
"""

from __future__ import annotations

import reflex as rx

from credits_app.live.balance import LiveBalance


def on_balance_change(event) -> rx.Component:
    """A hidden element that fires `event` after every live balance change."""
    return rx.box(rx.el.span(on_mount=event), key=LiveBalance.version, display="none")
