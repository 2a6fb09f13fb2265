"""Lifespan task: turn balance notices (this process and others) into pushes to open tabs."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import reflex as rx

from credits_app.db import read_session
from credits_app.live.balance import LiveBalance, link_token
from credits_app.live.disconnects import prune_links, unlink_on_disconnect
from credits_app.live.tabs import linked_tabs
from credits_app.observability import metrics
from credits_app.services import balance_events
from credits_app.services.accounts import balance_of
from credits_app.services.balance_watch import start_watch
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)


def _read_balance(user_id: int) -> tuple[int, int]:
    with read_session() as session:
        balance = balance_of(session=session, user_id=user_id)
    return balance.balance, balance.available


async def push_balance(app: rx.App, user_id: int) -> None:
    """Read the user's balance and set it on the state all their tabs are linked to."""
    balance, available = await asyncio.to_thread(_read_balance, user_id)
    token = rx.BaseStateToken(ident=link_token(user_id), cls=LiveBalance)
    async with app.modify_state(token) as root:
        live = await root.get_state(LiveBalance)
        await prune_links(app, live)
        live._apply(balance, available)


async def _drain(queue: asyncio.Queue[int]) -> set[int]:
    """Wait for one notice, then take all that queued meanwhile (bursts coalesce per user)."""
    users = {await queue.get()}
    while not queue.empty():
        users.add(queue.get_nowait())
    return users


async def balance_pusher(app: rx.App) -> None:
    """Run for the app's lifetime: listen in-process and cross-process, push to linked tabs.

    Tabs whose websocket closes are unlinked (`live.disconnects`), so a user's pushes reach
    the tabs that are open, not every tab they ever opened.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[int] = asyncio.Queue()
    unlink_on_disconnect(app)

    def notice(user_id: int) -> None:
        if linked_tabs.has_link(link_token(user_id)):
            loop.call_soon_threadsafe(queue.put_nowait, user_id)

    unsubscribe = balance_events.subscribe(lambda change: notice(change.user_id))
    settings = get_settings()
    watch = start_watch(notice, database_url=settings.database_url, redis_url=settings.redis_url)
    try:
        while True:
            for user_id in await _drain(queue):
                try:
                    with metrics.timing_push():
                        await push_balance(app, user_id)
                except Exception:
                    logger.exception("could not push the balance of user %s", user_id)
    finally:
        unsubscribe()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(watch.stop)
