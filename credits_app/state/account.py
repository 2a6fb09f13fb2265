"""The account page: the user's sessions (end one, end the others) and password change."""

from __future__ import annotations

import reflex as rx

from credits_app.db import read_session, session_scope
from credits_app.services import password_changes, sessions
from credits_app.services.errors import CreditsError
from credits_app.services.passwords import run_password_work
from credits_app.state.auth import AuthState, current_user_id, to_login, user_scoped
from credits_app.state.format import when
from credits_app.state.readable import readable


def _changed(user_id: int, current: object, new: object, keep_token: str, client_ip: str) -> int:
    with session_scope() as session:
        return password_changes.change_password(
            session=session,
            user_id=user_id,
            current=current,
            new=new,
            keep_token=keep_token,
            client_ip=client_ip,
        )


def _plural(count: int) -> str:
    return "1 other session was" if count == 1 else f"{count} other sessions were"


@user_scoped
class AccountState(rx.State):
    """The rows of the sessions table (ids are the user's own) and the password form."""

    session_rows: list[dict[str, str | int | bool]] = []
    message: str = ""
    password_error: str = ""
    password_notice: str = ""
    busy: bool = False

    async def _user(self) -> tuple[int, AuthState]:
        return await current_user_id(self), await self.get_state(AuthState)

    @rx.event
    async def load(self):
        """Read the user's live sessions."""
        user_id, auth = await self._user()
        if not user_id:
            return to_login(self)
        with read_session() as session:
            found = sessions.list_sessions(
                session=session, user_id=user_id, current_token=auth.session_token
            )
        self.session_rows = [
            {
                "id": row.id,
                "created": when(row.created_at),
                "last_seen": when(row.last_seen_at),
                "user_agent": row.user_agent or "Unknown device",
                "current": row.current,
            }
            for row in found
        ]
        return None

    @rx.event
    async def end_session(self, session_id: int):
        """Log out one of the user's other devices."""
        user_id, _ = await self._user()
        if not user_id:
            return to_login(self)
        with session_scope() as session:
            ended = sessions.end_user_session(
                session=session, user_id=user_id, session_id=int(session_id)
            )
        self.message = "That session was logged out." if ended else "That session had ended."
        return AccountState.load

    @rx.event
    async def end_other_sessions(self):
        """Log out every device but this one."""
        user_id, auth = await self._user()
        if not user_id:
            return to_login(self)
        with session_scope() as session:
            ended = sessions.end_other_sessions(
                session=session, user_id=user_id, keep_token=auth.session_token
            )
        self.message = f"{_plural(ended)} logged out." if ended else "No other sessions."
        return AccountState.load

    @rx.event
    async def change_password(self, form: dict):
        """Check the current password, set the new one, log out the other devices."""
        self.password_error, self.password_notice, self.busy = "", "", True
        yield
        try:
            user_id, auth = await self._user()
            if not user_id:
                yield to_login(self)
                return
            if form.get("new_password") != form.get("confirm_password"):
                self.password_error = "The two new passwords do not match."  # noqa: S105
                return
            ended = await run_password_work(
                _changed,
                user_id=user_id,
                current=form.get("current_password", ""),
                new=form.get("new_password", ""),
                keep_token=auth.session_token,
                client_ip=auth._client_ip(),
            )
            self.password_notice = f"Password changed. {_plural(ended)} logged out."
            yield AccountState.load
        except CreditsError as exc:
            self.password_error = readable(exc)
        finally:
            self.busy = False
