"""The example AI feature: estimate, reserve, stream, settle; one charge per run key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import reflex as rx

from credits_app.services.ai import estimate_cost, get_provider, stream_example
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


async def _close(events) -> None:
    # ValueError: still running in its thread (a cancelled wait); the hold is then released
    # when the generator is collected, or expires.
    with contextlib.suppress(ValueError, RuntimeError):
        await asyncio.to_thread(events.close)


def _new_key() -> str:
    return f"web-{uuid.uuid4().hex}"


def _estimate(prompt: str) -> int:
    try:
        return estimate_cost(prompt)
    except CreditsError:
        return 0


@user_scoped
class ExampleAIState(rx.State):
    """Prompt, estimate, streamed output and the costs of the current run.

    `run_key` is the idempotency key of the next run. The button sends it with the click,
    so both clicks of a double-click name the same run: the second is ignored here, and
    the service would never charge the same key twice anyway.
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
        self.prompt, self.estimate = value, _estimate(value)
        if not self.running:
            self.run_key = _new_key()

    @rx.event(background=True)
    async def run(self, key: str):
        """Reserve, stream and settle the run named `key`; repeated clicks do nothing."""
        async with self:
            if self.running or not key or key != self.run_key:
                return  # the second click of a double-click, or a stale one
            self.running, self.output, self.error = True, "", ""
            self.reserved, self.final_cost, self.short_of_credits = 0, -1, False
            user_id = await current_user_id(self)
            self.running = bool(user_id)
            prompt, gone = self.prompt, None if user_id else to_login(self)
        if gone is not None:  # the session ended (logout in another tab, revoked)
            yield gone
            return
        toast, settled = None, False
        events = stream_example(user_id=user_id, prompt=prompt, idempotency_key=key)
        try:
            while (event := await asyncio.to_thread(_next_event, events)) is not _DONE:
                async with self:
                    # A logout meanwhile reset this state: its output is not shown to anyone.
                    if self.run_key == key:
                        toast = self._apply(event) or toast
                settled = settled or event.kind in ("finished", "failed")
        except CreditsError as exc:  # refused before anything was reserved
            settled = True
            async with self:
                toast = self._refused(exc)
        except Exception:
            logger.exception("example AI run %s broke", key)
            async with self:
                self.error = "Something went wrong. Anything reserved is given back; try again."
            toast = rx.toast.error("Something went wrong; please try again.")
        finally:
            if not settled:
                await _close(events)  # the generator releases the hold when closed early
            async with self:
                self.running = False
                if settled:
                    # The next click is a new run; an interrupted one keeps its key so
                    # a retry waits for / replays it instead of charging again.
                    self.run_key = _new_key()
        if toast is not None:
            yield toast

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
            self.error = f"{reason} Nothing was charged."
            self.reserved = 0  # the hold was released
            return rx.toast.error(self.error)
        return None
