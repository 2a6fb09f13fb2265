"""The pages behind the emailed links: confirm an address, ask for and use a reset link."""

from __future__ import annotations

import asyncio

import reflex as rx

from credits_app.db import read_session, session_scope
from credits_app.services import password_changes, registration
from credits_app.services.errors import CreditsError
from credits_app.services.mail import Mail, send_mail
from credits_app.services.passwords import run_password_work
from credits_app.state.auth import AuthState, user_scoped
from credits_app.state.readable import readable


def _reset_requested(email: object, client_ip: str) -> Mail | None:
    with session_scope() as session:
        return password_changes.request_reset(session=session, email=email, client_ip=client_ip)


def _reset(token: object, password: object) -> None:
    with session_scope() as session:
        password_changes.reset_password(session=session, token=token, password=password)


class VerifyEmailState(rx.State):
    """The outcome of following a verification link: "checking", "verified" or "invalid"."""

    status: str = "checking"
    message: str = ""

    @rx.event
    def verify(self):
        """Use the link's token (once); the person then logs in with their password."""
        token = self.router.url.query_parameters.get("token", "")
        try:
            with session_scope() as session:
                user = registration.verify_email(session=session, token=token)
            self.status, self.message = "verified", f"{user.email} is confirmed. You can log in."
        except CreditsError as exc:
            self.status, self.message = "invalid", readable(exc)


@user_scoped
class ForgotPasswordState(rx.State):
    """The reset request form: one answer for every address."""

    notice: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def start(self):
        """A fresh form on every visit."""
        self.notice, self.error = "", ""

    @rx.event
    async def request_link(self, form: dict):
        """Email a reset link (or a note if there is no account); say the same either way."""
        self.notice, self.error, self.busy = "", "", True
        yield
        try:
            auth = await self.get_state(AuthState)
            mail = await asyncio.to_thread(
                _reset_requested, form.get("email", ""), auth._client_ip()
            )
            if mail is not None:
                await asyncio.to_thread(send_mail, mail)
            email = str(form.get("email", "")).strip()
            self.notice = f"We sent an email to {email} with the next step."
        except CreditsError as exc:
            self.error = readable(exc)
        finally:
            self.busy = False


class ResetPasswordState(rx.State):
    """The new-password form behind a reset link."""

    link_ok: bool = False
    checked: bool = False
    done: bool = False
    error: str = ""
    busy: bool = False

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.event
    def check_link(self):
        """Say at once when the link is used or expired."""
        with read_session() as session:
            self.link_ok = password_changes.reset_link_valid(session=session, token=self._token())
        self.checked, self.done, self.error = True, False, ""

    @rx.event
    async def set_new_password(self, form: dict):
        """Set the new password; every session of the account ends."""
        self.error, self.busy = "", True
        yield
        try:
            if form.get("password") != form.get("confirm"):
                self.error = "The two passwords do not match."
                return
            await run_password_work(_reset, token=self._token(), password=form.get("password"))
            self.done = True
            auth = await self.get_state(AuthState)
            await auth._sign_out()  # this tab's session ended with all the others
            auth.session_token = ""
        except CreditsError as exc:
            self.error = readable(exc)
        finally:
            self.busy = False
