"""The checkout result pages: has this purchase been credited yet?"""

from __future__ import annotations

import reflex as rx

from credits_app.db import read_session
from credits_app.services.purchase_status import credits_from_checkout
from credits_app.state.auth import current_user_id, to_login, user_scoped


@user_scoped
class PurchaseState(rx.State):
    """The checkout session from the URL and the credits it brought so far."""

    checkout_id: str = ""
    credited: int = 0
    checked: bool = False

    @rx.event
    async def load(self):
        """Read ?session_id= and look for its credits."""
        self.checkout_id = self.router.url.query_parameters.get("session_id", "")[:255]
        if await current_user_id(self):  # else the login check before this one redirects
            await self._check()

    @rx.event
    async def recheck(self):
        """Run again whenever the live balance changes."""
        return await self._check()

    async def _check(self):
        user_id = await current_user_id(self)
        if not user_id:
            return to_login(self)
        if not self.checkout_id:
            return None
        with read_session() as session:
            self.credited = credits_from_checkout(
                session=session, user_id=user_id, checkout_session_id=self.checkout_id
            )
        self.checked = True
        return None
