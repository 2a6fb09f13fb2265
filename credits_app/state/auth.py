"""Login state: the session token in LocalStorage, the user's id kept backend-only."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import reflex as rx

from credits_app import routes
from credits_app.db import read_session, session_scope
from credits_app.live.balance import LiveBalance, link_token, linked_users
from credits_app.services import sessions, users
from credits_app.services.accounts import balance_of
from credits_app.services.errors import CreditsError

PUBLIC_NEXT = (routes.LOGIN, routes.REGISTER, routes.LOGOUT)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return routes.DASHBOARD
    return routes.DASHBOARD if target.startswith(PUBLIC_NEXT) else target


class AuthState(rx.State):
    """Who is logged in on this tab; the token is the browser's, the id stays on the server."""

    session_token: str = rx.LocalStorage("", name="credits_session", sync=True)
    user_email: str = ""
    is_admin: bool = False
    auth_checked: bool = False
    error: str = ""
    busy: bool = False
    _user_id: int = 0

    @rx.var
    def logged_in(self) -> bool:
        """Whether a user is logged in on this tab."""
        return self.user_email != ""

    def _forget(self) -> None:
        self.user_email, self.is_admin, self._user_id = "", False, 0

    async def _load_user(self) -> bool:
        """Resolve the token to a user and link this tab's live balance; False if none."""
        with read_session() as session:
            user = sessions.user_for_token(session=session, token=self.session_token)
            balance = balance_of(session=session, user_id=user.id) if user else None
        if user is None or balance is None:
            self._forget()
            return False
        self.user_email, self.is_admin, self._user_id = user.email, sessions.is_admin(user), user.id
        live = await self.get_state(LiveBalance)
        live = await live._link_to(link_token(user.id))
        live._apply(balance.balance, balance.available)
        linked_users.add(user.id)
        return True

    @rx.event
    async def check_login(self):
        """On load of a protected page: send strangers to the login page, then back here."""
        ok = await self._load_user()
        self.auth_checked = True
        if not ok:
            here = self.router.url.path or routes.DASHBOARD
            if self.router.url.query:
                here += "?" + self.router.url.query
            return rx.redirect(f"{routes.LOGIN}?next={quote(here, safe='')}", replace=True)
        return None

    @rx.event
    async def check_optional(self):
        """On load of a public page: show the user's balance in the nav if logged in."""
        await self._load_user()
        self.auth_checked = True

    async def _start(self, user_id: int):
        with session_scope() as session:
            self.session_token = sessions.start_session(session=session, user_id=user_id)
        await self._load_user()
        target = _safe_next(self.router.url.query_parameters.get("next"))
        return rx.redirect(target, replace=True)

    @rx.event
    async def login(self, form: dict):
        """Check the password and start a session."""
        self.error, self.busy = "", True
        yield
        try:
            with read_session() as session:
                user = await asyncio.to_thread(
                    users.authenticate,
                    session=session,
                    email=form.get("email", ""),
                    password=form.get("password", ""),
                )
            yield await self._start(user.id)
        except CreditsError as exc:
            self.error = exc.message
        finally:
            self.busy = False

    @rx.event
    async def register(self, form: dict):
        """Create the account and log in."""
        self.error, self.busy = "", True
        yield
        try:
            if form.get("password") != form.get("confirm"):
                self.error = "The two passwords do not match."
                return
            with session_scope() as session:
                user = await asyncio.to_thread(
                    users.create_user,
                    session=session,
                    email=form.get("email", ""),
                    password=form.get("password", ""),
                )
            yield await self._start(user.id)
        except CreditsError as exc:
            self.error = _readable(exc)
        finally:
            self.busy = False

    @rx.event
    async def logout(self):
        """End the session on the server and forget the token in the browser."""
        with session_scope() as session:
            sessions.end_session(session=session, token=self.session_token)
        self.session_token = ""
        self._forget()
        live = await self.get_state(LiveBalance)
        if live._linked_to:
            await live._unlink()
        return rx.redirect(routes.LOGIN, replace=True)


def _readable(exc: CreditsError) -> str:
    """Turn 'password: must be ...' into 'Password must be ...'."""
    field = getattr(exc, "field", None)
    reason = getattr(exc, "reason", None)
    if field and reason:
        return f"{field.capitalize()} {reason}."
    return exc.message


async def current_user_id(state: rx.State) -> int:
    """Return the logged-in user's id for this tab, or 0 (on_load handlers then do nothing)."""
    auth = await state.get_state(AuthState)
    return auth._user_id
