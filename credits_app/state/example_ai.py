"""The example AI feature: estimate, reserve, stream, settle; one charge per run key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import reflex as rx
from reflex_base.registry import RegistrationContext

from credits_app.services.ai import estimate_cost, get_provider, stop_run, stream_example
from credits_app.services.ai.pricing import MAX_PROMPT_CHARS
from credits_app.services.errors import CreditsError, InsufficientCredits
from credits_app.state.auth import current_user_id, to_login, user_scoped

LOCAL_DEFAULT = (
    "We switched our team to the new dashboard last month. Setup took ten minutes and the "
    "charts are clear and genuinely useful. Exports are still slow on large accounts, which "
    "is frustrating, but support answered quickly and promised a fix. Overall we are happy "
    "and would recommend it."
)
OPENAI_DEFAULT = "Explain in three sentences why metered AI features reserve credits first."
_FAILURES = {
    "provider_timeout": "The AI provider took too long to answer.",
    "hold_expired": "The run took too long and its reservation expired.",
    "in_progress": "This run is still going in another tab.",
}
_DONE = object()
logger = logging.getLogger(__name__)


def _next_event(events):
    # Runs in a worker thread: the provider and the database calls block.
    return next(events, _DONE)


async def _stop(events, *, last_delivered: bool = True) -> None:
    """End the run early; the flow charges the output delivered so far."""
    # ValueError: still running in its thread (a cancelled wait); the run is then settled
    # when that step ends and the generator is collected.
    with contextlib.suppress(ValueError, RuntimeError):
        await asyncio.to_thread(stop_run, events, last_delivered=last_delivered)


async def _tab_connected(token: str) -> bool:
    """Whether the tab is still connected, i.e. output shown to it reaches someone."""
    try:
        # Reflex 0.10 has no public accessor; its own shared states ask the same way.
        manager = RegistrationContext.get().app.event_namespace._token_manager
    except (LookupError, AttributeError):
        return True  # no running app to ask (e.g. a unit test): assume the tab is there
    return await manager.is_token_connected(token)


def _new_key() -> str:
    return f"web-{uuid.uuid4().hex}"


def _estimate(prompt: str) -> int:
    try:
        return estimate_cost(prompt)
    except CreditsError:
        return 0


def _charged_note(charged: int) -> str:
    if not charged:
        return "Nothing was charged."
    return f"You were charged {charged} credits for the part shown."


@user_scoped
class ExampleAIState(rx.State):
    """Prompt, estimate, streamed output and the costs of the current run.

    The Analyse button submits a form carrying the text box's own value and `run_key`, so a
    run always uses the text on the screen, even when the debounced `set_prompt` has not
    arrived yet. Both clicks of a double-click carry the same key: the second is ignored
    here, and the service would never charge the same key twice anyway.
    """

    prompt: str = LOCAL_DEFAULT
    estimate: int = _estimate(LOCAL_DEFAULT)
    local_provider: bool = True
    run_key: str = ""
    output: str = ""
    running: bool = False
    reserved: int = 0
    final_cost: int = -1
    error: str = ""
    short_of_credits: bool = False
    _last_click: str = ""

    @rx.event
    def load(self):
        """Pick the label and sample text for the configured provider; prepare a run key."""
        self.local_provider = get_provider().name == "local"
        if not self.local_provider and self.prompt == LOCAL_DEFAULT:
            self._set_text(OPENAI_DEFAULT)
        self.run_key = self.run_key or _new_key()

    @rx.event
    def set_prompt(self, value: str):
        """Edit the prompt: a new estimate, and a new key (new text is a new run)."""
        self._set_text(value[:MAX_PROMPT_CHARS])

    def _set_text(self, value: str) -> None:
        if value == self.prompt:
            return
        self.prompt, self.estimate = value, _estimate(value)
        if not self.running:
            self.run_key = _new_key()

    def _start(self, form: dict[str, Any]) -> tuple[str, str] | None:
        """Begin the run the click asked for: (key, text), or None to ignore the click."""
        click, text = str(form.get("run_key") or ""), form.get("prompt")
        if self.running or not click or click == self._last_click:
            return None  # the second click of a double-click, or a stale one
        if isinstance(text, str):
            self._set_text(text)  # the screen can be ahead of the debounced text
        self._last_click = click
        self.running, self.output, self.error = True, "", ""
        self.reserved, self.final_cost, self.short_of_credits = 0, -1, False
        return self.run_key, self.prompt

    @rx.event(background=True)
    async def run(self, form: dict[str, Any]):
        """Reserve, stream and settle a run of the submitted text; repeated clicks do nothing."""
        async with self:
            if (started := self._start(form)) is None:
                return
            key, prompt = started
            user_id = await current_user_id(self)
            self.running = bool(user_id)
            tab, gone = self.router.session.client_token, None if user_id else to_login(self)
        if gone is not None:  # the session ended (logout in another tab, revoked)
            yield gone
            return
        toast = await self._stream(user_id, prompt, key, tab)
        async with self:
            self.running = False
            self.run_key = _new_key()  # the run is settled: the next click is a new run
        if toast is not None:
            yield toast

    async def _stream(self, user_id: int, prompt: str, key: str, tab: str):
        """Show the run's events as they come; return a toast to show, if any."""
        toast, ended = None, False
        events = stream_example(user_id=user_id, prompt=prompt, idempotency_key=key)
        try:
            while (event := await asyncio.to_thread(_next_event, events)) is not _DONE:
                shown = event.kind != "chunk" or await _tab_connected(tab)
                if shown:
                    async with self:
                        # A logout meanwhile reset this state: its output is shown to no one.
                        if shown := self.run_key == key:
                            toast = self._apply(event) or toast
                if not shown:
                    # Nobody sees this event: stop, and pay only for what the tab showed.
                    await _stop(events, last_delivered=False)
                    ended = True
                    break
                ended = ended or event.kind in ("finished", "failed")
        except CreditsError as exc:  # refused before anything was reserved
            ended = True
            async with self:
                toast = self._refused(exc)
        except Exception:
            logger.exception("example AI run %s broke", key)
            async with self:
                self.error = "Something went wrong; you pay only for the output shown. Try again."
            toast = rx.toast.error("Something went wrong; please try again.")
        finally:
            if not ended:
                await _stop(events)  # charges what was shown, or releases the hold
        return toast

    def _refused(self, exc: CreditsError):
        if isinstance(exc, InsufficientCredits):
            self.short_of_credits = True
            self.error = (
                f"This needs up to {exc.required} credits but you have {exc.balance} "
                "available. Nothing was charged."
            )
            return None
        self.error = f"{exc.message}. Nothing was charged."
        return rx.toast.error(self.error)

    def _apply(self, event):
        if event.kind == "reserved":
            self.reserved = event.amount
        elif event.kind == "chunk":
            self.output += event.text
        elif event.kind == "finished":
            self.final_cost = event.cost
            self.output = event.result  # the whole text, also for a replayed run
        elif event.kind == "failed":
            reason = _FAILURES.get(event.code) or f"The AI request failed: {event.message}."
            self.error = f"{reason} {_charged_note(event.charged)}"
            self.output = event.result
            self.final_cost = event.charged if event.charged else -1
            if not event.charged:
                self.reserved = 0  # the hold was released
            return rx.toast.error(self.error)
        return None
