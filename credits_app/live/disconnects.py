"""Unlink a tab from its user's live balance when its websocket goes away.

Reflex keeps every client token that ever linked to a shared state in its `_linked_from`
set, and never drops one (its own fan-out has a "remove disconnected clients" TODO): each
push then walks every tab the user ever opened, and the set is saved with the state. Reflex
offers no disconnect hook, so `unlink_on_disconnect` wraps the event namespace's
`on_disconnect`: after Reflex's own cleanup, a tab that did not reconnect is removed from the
shared state and from this process's `linked_tabs`. A tab that comes back links again on
its reconnect (`hydrate_and_load` runs the page's login check, which links).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import reflex as rx

from credits_app.live.balance import LiveBalance
from credits_app.live.tabs import linked_tabs

logger = logging.getLogger(__name__)
_pending: set[asyncio.Task] = set()


async def _connected(app: rx.App, tab: str) -> bool:
    namespace = app.event_namespace
    return namespace is not None and await namespace._token_manager.is_token_connected(tab)


async def drop_tab(app: rx.App, tab: str, cleanup: asyncio.Future | None = None) -> None:
    """Unlink a tab whose socket closed from its user's live balance, unless it came back.

    The tab's own state is unlinked (not just the shared state's list of tabs): an event
    of the tab still queued when its socket closed would otherwise link it again. This runs
    under the tab's state lock, which a reconnecting tab takes too (its hydrate links
    again), so a tab that reconnected meanwhile is left alone.
    """
    if cleanup is not None:
        with contextlib.suppress(Exception):
            await cleanup  # Reflex's own token cleanup: only then is the tab disconnected
    if linked_tabs.link_of(tab) is None:
        return
    async with app.modify_state(rx.BaseStateToken(ident=tab, cls=LiveBalance)) as root:
        if await _connected(app, tab):
            return
        live = await root.get_state(LiveBalance)
        if live._linked_to:
            await live._unlink()  # also forgets the tab in `linked_tabs`
        linked_tabs.remove(tab)
        # Nobody is there to receive the rehydration the unlink prepared.
        root._clean()


async def prune_links(app: rx.App, live: LiveBalance) -> None:
    """Drop tabs that are not connected from a shared balance the caller has locked.

    A safety net for tabs whose disconnect this process never saw: a worker that crashed,
    or links saved before tabs were unlinked on disconnect.
    """
    for tab in list(live._linked_from):
        if not await _connected(app, tab):
            live._linked_from.discard(tab)
            linked_tabs.remove(tab)


def _log_failure(task: asyncio.Task) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("could not unlink a closed tab: %r", task.exception())


def unlink_on_disconnect(app: rx.App) -> None:
    """Make every websocket disconnect of `app` unlink its tab (once per namespace)."""
    namespace = app.event_namespace
    if namespace is None or getattr(namespace, "_credits_unlinks", False):
        return
    reflex_on_disconnect = namespace.on_disconnect

    def on_disconnect(sid: str, *_reason: object):
        tab = namespace.sid_to_token.get(sid)
        cleanup = reflex_on_disconnect(sid)
        if tab is not None and linked_tabs.link_of(tab) is not None:
            task = asyncio.get_running_loop().create_task(drop_tab(app, tab, cleanup))
            _pending.add(task)
            task.add_done_callback(_log_failure)
        return cleanup

    # socket.io looks handlers up on the namespace object, so this instance attribute wins.
    namespace.on_disconnect = on_disconnect
    namespace._credits_unlinks = True
