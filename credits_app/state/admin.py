"""Admin grants: find a user, grant with a reason (confirm large ones), see their ledger."""

from __future__ import annotations

import uuid

import reflex as rx

from credits_app.db import read_session, session_scope
from credits_app.services.accounts import balance_of
from credits_app.services.admin_grants import admin_grant, needs_confirmation, require_admin
from credits_app.services.errors import CreditsError
from credits_app.services.history import ledger_history
from credits_app.services.ledger_labels import describe
from credits_app.services.users import find_user_by_email
from credits_app.state.auth import AuthState, current_user_id, to_login, user_scoped
from credits_app.state.format import signed, when


@user_scoped
class AdminGrantState(rx.State):
    """The user being looked at; their id stays on the server."""

    query: str = ""
    found_email: str = ""
    found_balance: int = 0
    ledger: list[dict[str, str]] = []
    amount: str = ""
    reason: str = ""
    confirming: bool = False
    busy: bool = False
    message: str = ""
    _found_id: int = 0
    _grant_key: str = ""

    async def _admin_id(self) -> int:
        """The acting admin's id (session re-checked); the service checks admin rights too."""
        user_id = await current_user_id(self)
        auth = await self.get_state(AuthState)
        return user_id if auth.is_admin else 0

    @rx.event
    async def find(self, form: dict):
        """Look the user up by email."""
        self.query, self.message, self.confirming = str(form.get("email", "")).strip(), "", False
        try:
            if not await self._admin_id():
                signed_in = (await self.get_state(AuthState))._user_id
                return rx.toast.error("Admins only.") if signed_in else to_login(self)
            with read_session() as session:
                user = find_user_by_email(session=session, email=self.query)
            self._found_id, self.found_email = user.id, user.email
            self._grant_key = ""
            self._read_user()
        except CreditsError as exc:
            self._found_id, self.found_email, self.ledger = 0, "", []
            return rx.toast.error(exc.message)
        return None

    def _read_user(self) -> None:
        with read_session() as session:
            self.found_balance = balance_of(session=session, user_id=self._found_id).balance
            rows = ledger_history(session=session, user_id=self._found_id, limit=10)
        self.ledger = [
            {
                "what": describe(e),
                "reason": e.reason or "",
                "delta": signed(e.delta),
                "by": f"admin #{e.actor_user_id}" if e.actor_user_id else e.source,
                "at": when(e.created_at),
            }
            for e in rows
        ]

    @rx.event
    async def grant(self, form: dict):
        """Validate, ask for confirmation above the threshold, then grant once."""
        self.amount, self.reason = str(form.get("amount", "")), str(form.get("reason", ""))
        amount = int(self.amount) if self.amount.strip().isdigit() else -1
        if amount > 0 and needs_confirmation(amount) and not self.confirming:
            self.confirming = True
            return None
        return await self._grant(amount)

    @rx.event
    async def confirm(self):
        """The admin confirmed a large grant."""
        amount = int(self.amount) if self.amount.strip().isdigit() else -1
        return await self._grant(amount, confirmed=True)

    @rx.event
    def cancel(self):
        """Back out of the confirmation."""
        self.confirming = False

    async def _grant(self, amount: int, confirmed: bool = False):
        self.confirming, self.message = False, ""
        admin_id = await self._admin_id()
        if not admin_id:
            return to_login(self)
        self._grant_key = self._grant_key or f"admin-web-{uuid.uuid4().hex}"
        try:
            with session_scope() as session:
                require_admin(session=session, user_id=admin_id)
                result = admin_grant(
                    session=session,
                    admin_user_id=admin_id,
                    user_id=self._found_id,
                    amount=amount,
                    reason=self.reason,
                    idempotency_key=self._grant_key,
                    confirmed=confirmed,
                )
        except CreditsError as exc:
            return rx.toast.error(exc.message)
        self._grant_key = ""
        self.message = (
            f"Granted {amount:,} credits to {self.found_email}; balance {result.balance:,}."
        )
        self._read_user()
        return rx.toast.success(self.message)
