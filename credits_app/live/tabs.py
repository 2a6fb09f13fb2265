"""The open tabs this process linked to a user's live balance, by their Reflex client token.

A tab is added when it links (login, every page load) and removed when it unlinks (logout)
or its websocket goes away (`live.disconnects`). The pusher asks it whether a user has a tab
here at all, so nothing is read or pushed for users nobody is watching.
"""

from __future__ import annotations

import threading


class LinkedTabs:
    """Client token -> link token of the tabs linked in this process (thread-safe).

    Balance notices arrive on watcher threads while tabs come and go on the event loop.
    """

    def __init__(self) -> None:
        self._link_of: dict[str, str] = {}
        self._tabs_of: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def add(self, tab: str, link: str) -> None:
        """Record that `tab` is linked to `link` (again: nothing changes)."""
        with self._lock:
            previous = self._link_of.get(tab)
            if previous == link:
                return
            if previous is not None:
                self._discard(tab, previous)
            self._link_of[tab] = link
            self._tabs_of.setdefault(link, set()).add(tab)

    def remove(self, tab: str) -> str | None:
        """Forget `tab`; return the link it had, if any."""
        with self._lock:
            link = self._link_of.pop(tab, None)
            if link is not None:
                self._discard(tab, link)
            return link

    def link_of(self, tab: str) -> str | None:
        """The link token `tab` is linked to, if it is."""
        return self._link_of.get(tab)

    def has_link(self, link: str) -> bool:
        """Whether any tab of this process is linked to `link`."""
        return link in self._tabs_of

    def __len__(self) -> int:
        return len(self._link_of)

    def _discard(self, tab: str, link: str) -> None:
        tabs = self._tabs_of.get(link)
        if tabs is not None:
            tabs.discard(tab)
            if not tabs:
                del self._tabs_of[link]


linked_tabs = LinkedTabs()
