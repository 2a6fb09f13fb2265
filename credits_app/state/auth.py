"""Login state: the session token in LocalStorage, the user's id kept backend-only."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import reflex as rx

from credits_app import routes
from credits_app.db import read_session, session_scope
from credits_app.live.balance import LiveBalance, link_token
from credits_app.services import registration, sessions, signin, users
from credits_app.services.accounts import balance_of
from credits_app.services.errors import CreditsError, EmailNotVerified
from credits_app.services.mail import Mail, send_mail
from credits_app.services.passwords import run_password_work
from credits_app.state.readable import readable

PUBLIC_NEXT = (routes.LOGIN, routes.REGISTER, routes.LOGOUT)
UNVERIFIED = "Confirm your email address first: we sent you a new link."

# States holding one user's data; all are reset whenever the tab's user changes or leaves.
USER_SCOPED: list[type[rx.State]] = []


def user_scoped(cls: type[rx.State]) -> type[rx.State]:
    """Class decorator: reset this state at logout, login and when the session dies."""
    USER_SCOPED.append(cls)
    return cls


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return routes.DASHBOARD
    # Browsers read "/\\host" as "//host", and control characters can hide a scheme.
    if "\\" in target or any(ord(char) < 32 for char in target):
        return routes.DASHBOARD
    return routes.DASHBOARD if target.startswith(PUBLIC_NEXT) else target


def _signed_in(email: object, password: object, client_ip: str) -> users.UserInfo:
    with read_session() as session:
        return signin.sign_in(session=session, email=email, password=password, client_ip=client_ip)


def _registered(email: object, password: object, client_ip: str) -> Mail | None:
    with session_scope() as session:
        return registration.register(
            session=session, email=email, password=password, client_ip=client_ip
        )


def _verification_again(user_id: int) -> None:
    with session_scope() as session:
        mail = registration.verification_again(session=session, user_id=user_id)
    if mail is not None:
        send_mail(mail)


class AuthState(rx.State):
    """Who is logged in on this tab; the token is the browser's, the id stays on the server."""

    session_token: str = rx.LocalStorage("", name="credits_session", sync=True)
    user_email: str = ""
    is_admin: bool = False
    auth_checked: bool = False
    error: str = ""
    notice: str = ""
    busy: bool = False
    _user_id: int = 0

    @rx.var
    def logged_in(self) -> bool:
        """Whether a user is logged in on this tab."""
        return self.user_email != ""

    def _forget(self) -> None:
        self.user_email, self.is_admin, self._user_id = "", False, 0

    def _client_ip(self) -> str:
        """The browser's address (X-Forwarded-For only through REFLEX_TRUSTED_PROXY_HOPS)."""
        return self.router.session.client_ip or "unknown"

    async def _reset_user_states(self) -> None:
        """Drop every user-scoped state and this tab's live balance link.

        Hydrate sends the whole state tree, so anything left here would reach the next
        user of this tab.
        """
        for cls in USER_SCOPED:
            (await self.get_state(cls)).reset()
        live = await self.get_state(LiveBalance)
        if live._linked_to:
            # Its rehydrate events are not returned: the tab is being sent elsewhere anyway.
            await live._unlink()
        # The tab's own copy, now in place: resetting it sends zeros over the old figures.
        (await self.get_state(LiveBalance)).reset()

    async def _sign_out(self) -> None:
        """Forget the user on this tab and everything their pages held."""
        self._forget()
        await self._reset_user_states()

    def _session_user(self) -> users.UserInfo | None:
        """Check the token (not revoked, expired or idle); note activity once a minute."""
        with read_session() as session:
            live = sessions.resolve_token(session=session, token=self.session_token)
        if live is not None and live.touch_due:
            with session_scope() as session:
                sessions.touch_session(session=session, session_id=live.id)
        return live.user if live else None

    async def _revalidate(self) -> int:
        """Re-check the session on an event that reads or spends user data; 0 if it died."""
        if not self._user_id:
            return 0
        user = self._session_user()
        if user is None or user.id != self._user_id:
            await self._sign_out()
            return 0
        self.is_admin = sessions.is_admin(user)
        return self._user_id

    async def _load_user(self) -> bool:
        """Resolve the token to a user and link this tab's live balance; False if none."""
        user = self._session_user()
        with read_session() as session:
            balance = balance_of(session=session, user_id=user.id) if user else None
        if user is None or balance is None:
            if self._user_id or (await self.get_state(LiveBalance))._linked_to:
                await self._sign_out()  # expired, idle or revoked since the last event
            self._forget()
            return False
        if self._user_id != user.id:
            # Another user's token (synced from another tab): nothing of the previous stays.
            await self._reset_user_states()
        self.user_email, self.is_admin, self._user_id = user.email, sessions.is_admin(user), user.id
        live = await self.get_state(LiveBalance)
        live = await live._link_to(link_token(user.id))
        live._apply(balance.balance, balance.available)
        return True

    @rx.event
    async def check_login(self):
        """On load of a protected page: send strangers to the login page, then back here."""
        self.error, self.notice = "", ""
        ok = await self._load_user()
        self.auth_checked = True
        return None if ok else to_login(self)

    @rx.event
    async def check_optional(self):
        """On load of a public page: show the user's balance in the nav if logged in."""
        self.error, self.notice = "", ""
        await self._load_user()
        self.auth_checked = True

    async def _start(self, user_id: int):
        await self._sign_out()  # a fresh login never inherits the tab's previous pages
        with session_scope() as session:
            self.session_token = sessions.start_session(
                session=session, user_id=user_id, user_agent=self.router.headers.user_agent
            )
        await self._load_user()
        target = _safe_next(self.router.url.query_parameters.get("next"))
        return rx.redirect(target, replace=True)

    @rx.event
    async def login(self, form: dict):
        """Check the password (throttled, in the password pool) and start a session."""
        self.error, self.notice, self.busy = "", "", True
        yield
        try:
            user = await run_password_work(
                _signed_in,
                email=form.get("email", ""),
                password=form.get("password", ""),
                client_ip=self._client_ip(),
            )
            yield await self._start(user.id)
        except EmailNotVerified as exc:
            self.error = UNVERIFIED
            await asyncio.to_thread(_verification_again, exc.user_id)
        except CreditsError as exc:
            self.error = readable(exc)
        finally:
            self.busy = False

    @rx.event
    async def register(self, form: dict):
        """Register the address and email it; the answer never says whether it was known."""
        self.error, self.notice, self.busy = "", "", True
        yield
        try:
            if form.get("password") != form.get("confirm"):
                self.error = "The two passwords do not match."
                return
            mail = await run_password_work(
                _registered,
                email=form.get("email", ""),
                password=form.get("password", ""),
                client_ip=self._client_ip(),
            )
            if mail is not None:
                await asyncio.to_thread(send_mail, mail)
            email = str(form.get("email", "")).strip()
            self.notice = f"We sent an email to {email}. Follow the link in it to continue."
        except CreditsError as exc:
            self.error = readable(exc)
        finally:
            self.busy = False

    @rx.event
    async def logout(self):
        """End the session on the server and forget the token (only from a button)."""
        with session_scope() as session:
            sessions.end_session(session=session, token=self.session_token)
        self.session_token = ""
        await self._sign_out()
        return rx.redirect(routes.LOGIN, replace=True)


async def current_user_id(state: rx.State) -> int:
    """Return the logged-in user's id for this tab, or 0; the session is re-checked each time.

    A logout or revocation in another tab thus stops this tab at its next event.
    """
    auth = await state.get_state(AuthState)
    return await auth._revalidate()


async def current_admin_id(state: rx.State) -> int:
    """The logged-in admin's id (session re-checked as for `current_user_id`), or 0.

    Admin pages call it first; the services they call check admin rights again.
    """
    user_id = await current_user_id(state)
    auth = await state.get_state(AuthState)
    return user_id if auth.is_admin else 0


def to_login(state: rx.State):
    """Send the browser to the login page, coming back to the current page afterwards."""
    here = state.router.url.path or routes.DASHBOARD
    if state.router.url.query:
        here += "?" + state.router.url.query
    return rx.redirect(f"{routes.LOGIN}?next={quote(here, safe='')}", replace=True)
