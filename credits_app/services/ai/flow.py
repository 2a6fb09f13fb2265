"""The metered AI flow: estimate, reserve, run the provider, capture the real cost or release."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator

from credits_app.db import session_scope
from credits_app.services.accounts import balance_of
from credits_app.services.ai.errors import ProviderError
from credits_app.services.ai.events import AiEvent, Chunk, Failed, Finished, Reserved
from credits_app.services.ai.pricing import (
    EXAMPLE_FEATURE,
    PRICES,
    actual_cost,
    count_words,
    estimate_cost,
    validate_prompt,
)
from credits_app.services.ai.providers import Provider, get_provider
from credits_app.services.ai.replay import replay_events
from credits_app.services.errors import CreditsError
from credits_app.services.holds import (
    MAX_TTL_SECONDS,
    HoldResult,
    SettleResult,
    capture,
    release,
    reserve,
    save_result,
)
from credits_app.services.validation import MAX_KEY_LENGTH, validate_key
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)


def _hold_ttl() -> int:
    # Long enough for every retry of a slow provider; the sweep still frees a crashed run.
    return min(MAX_TTL_SECONDS, int(get_settings().ai_timeout_seconds * 3) + 60)


def _clip(done: str, piece: str, max_words: int) -> tuple[str, bool]:
    """Cut `piece` so `done + piece` has at most `max_words` words; say whether it was cut."""
    text = done + piece
    if count_words(text) <= max_words:
        return piece, False
    end = [m.end() for m in re.finditer(r"\S+", text)][max_words - 1] if max_words else 0
    return text[:end][len(done) :], True


def step_key(key: str, step: str) -> str:
    """The idempotency key of one step of a run (`capture`, `release`) derived from the run's."""
    if len(key) + len(step) + 1 > MAX_KEY_LENGTH:
        # Keep derived keys within the column's limit; a digest is just as unique.
        key = hashlib.sha256(key.encode()).hexdigest()
    return f"{key}:{step}"


def _release(user_id: int, hold: HoldResult, key: str) -> tuple[int, int]:
    """Give the whole hold back; return (balance, available)."""
    with session_scope() as session:
        try:
            done = release(
                session=session,
                user_id=user_id,
                hold_id=hold.hold_id,
                idempotency_key=step_key(key, "release"),
            )
            return done.balance, done.available
        except CreditsError:
            # Already expired or resolved: either way nothing was charged.
            balance = balance_of(session=session, user_id=user_id)
            return balance.balance, balance.available


def _produce(provider: Provider, prompt: str, max_words: int) -> Iterator[str]:
    """Stream the provider's output, never more than `max_words` words in total."""
    done = ""
    for piece in provider.stream(prompt, max_words=max_words):
        piece, full = _clip(done, piece, max_words)
        if piece:
            done += piece
            yield piece
        if full:
            return


def _capture(user_id: int, hold: HoldResult, key: str, cost: int, result: str) -> SettleResult:
    """Keep the output for replays, then charge the real cost.

    The output is stored first: a duplicate request waits until the hold is captured and then
    replays the stored output, so it must already be there. A replay ignores the output of a
    hold that ended up released.
    """
    with session_scope() as session:
        save_result(session=session, user_id=user_id, hold_id=hold.hold_id, result=result)
        return capture(
            session=session,
            user_id=user_id,
            hold_id=hold.hold_id,
            amount=cost,
            idempotency_key=step_key(key, "capture"),
        )


def _run(user_id, prompt, key, hold: HoldResult, provider: Provider) -> Iterator[AiEvent]:
    settled = False
    output: list[str] = []
    try:
        try:
            for piece in _produce(provider, prompt, PRICES[EXAMPLE_FEATURE].max_output_words):
                output.append(piece)
                yield Chunk(piece)
        except ProviderError as exc:
            settled = True
            yield Failed(str(exc), exc.code, *_release(user_id, hold, key))
            return
        except Exception:
            # A provider bug must not become a charge or a 500: the user pays nothing.
            logger.exception("AI provider %s failed unexpectedly", provider.name)
            settled = True
            yield Failed("AI provider failed", "provider_error", *_release(user_id, hold, key))
            return
        result = "".join(output)
        try:
            done = _capture(user_id, hold, key, actual_cost(prompt, result), result)
        except CreditsError as exc:
            settled = True
            yield Failed(exc.message, exc.code, *_release(user_id, hold, key))
            return
        settled = True
        yield Finished(
            done.captured, hold.reserved, done.balance, done.available, result, hold.hold_id
        )
    finally:
        # The consumer went away (or something broke) before we settled: charge nothing.
        if not settled:
            _release(user_id, hold, key)


def stream_example(
    *, user_id: int, prompt: str, idempotency_key: str, provider: Provider | None = None
) -> Iterator[AiEvent]:
    """Run the example AI feature for a user, yielding reserved, chunk..., finished/failed.

    Each database step is its own short transaction; none is open while the provider runs.
    The charge is the real cost, never more than the reserved estimate; a failed or
    abandoned run releases the hold, so it costs nothing. Reusing a key never charges twice:
    the first run's stored result is replayed (after waiting for it, if still running).

    Raises:
        InvalidRequest: For an empty or over-long prompt or a bad key (before any event).
        InsufficientCredits: When the estimate exceeds the available balance.
        IdempotencyConflict: When the key was used for another prompt.
    """
    prompt = validate_prompt(prompt)
    key = validate_key(idempotency_key)
    estimate = estimate_cost(prompt)
    provider = provider or get_provider()
    with session_scope() as session:
        hold = reserve(
            session=session,
            user_id=user_id,
            amount=estimate,
            feature=EXAMPLE_FEATURE,
            idempotency_key=key,
            ttl_seconds=_hold_ttl(),
            digests={"prompt": hashlib.sha256(prompt.encode()).hexdigest()},
        )
    if hold.replayed:
        yield from replay_events(user_id, hold, wait_seconds=_hold_ttl())
        return
    yield Reserved(hold.reserved, hold.hold_id, hold.balance, hold.available)
    yield from _run(user_id, prompt, key, hold, provider)
