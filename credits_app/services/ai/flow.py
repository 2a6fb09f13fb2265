"""The metered AI flow: reserve the estimate, stream the provider, charge what was delivered."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta

from credits_app.db import session_scope
from credits_app.services.ai.charge import step_key
from credits_app.services.ai.delivery import DeliveredRun, RunEvents, Undelivered, stream_run
from credits_app.services.ai.pricing import EXAMPLE_FEATURE, estimate_cost, validate_prompt
from credits_app.services.ai.providers import Provider, get_provider
from credits_app.services.ai.replay import replay_events
from credits_app.services.holds import MAX_TTL_SECONDS, ManagedBy, reserve
from credits_app.services.validation import validate_key
from credits_app.settings import get_settings

__all__ = ["Undelivered", "step_key", "stop_run", "stream_example"]

# Stop producing this long before the hold expires, so what was delivered is still captured.
SETTLE_MARGIN_SECONDS = 5.0


def _hold_ttl() -> int:
    # Long enough for every retry of a slow provider; the sweep still frees a crashed run.
    return min(MAX_TTL_SECONDS, int(get_settings().ai_timeout_seconds * 3) + 60)


def stop_run(events: RunEvents, *, last_delivered: bool = True) -> None:
    """End a run early from its consumer: it is charged for the output delivered so far.

    Args:
        events: The generator `stream_example` returned.
        last_delivered: False when the event received last never reached the reader (the
            client hung up while it was produced): that chunk is then not charged.
    """
    if not last_delivered:
        with contextlib.suppress(Undelivered, StopIteration):
            events.throw(Undelivered())
    events.close()


def stream_example(
    *, user_id: int, prompt: str, idempotency_key: str, provider: Provider | None = None
) -> RunEvents:
    """Run the example AI feature for a user, yielding reserved, chunk..., finished/failed.

    Usage delivered is usage paid. A chunk counts as delivered once it is yielded; a run
    that fails, stops early or is closed (`close()`, or dropped) is charged
    `actual_cost(prompt, delivered output)`, and one that delivered nothing releases its
    hold. A consumer that received a chunk but could not pass it on ends the run with
    `stop_run(events, last_delivered=False)`. Output stops before the hold expires; a hold
    that lapsed anyway (a stalled consumer) is paid by a spend instead. Only this run can
    settle its hold: the public capture/release routes refuse it.

    Each database step is its own short transaction; none is open while the provider runs.
    Reusing a key never charges twice: the first run's stored result is replayed (after
    waiting for it, if still running).

    Raises:
        InvalidRequest: For an empty or over-long prompt or a bad key (before any event).
        InsufficientCredits: When the estimate exceeds the available balance.
        IdempotencyConflict: When the key was used for another prompt.
    """
    prompt = validate_prompt(prompt)
    key = validate_key(idempotency_key)
    estimate = estimate_cost(prompt)
    provider = provider or get_provider()
    ttl = _hold_ttl()
    with session_scope() as session:
        hold = reserve(
            session=session,
            user_id=user_id,
            amount=estimate,
            feature=EXAMPLE_FEATURE,
            idempotency_key=key,
            ttl_seconds=ttl,
            digests={"prompt": hashlib.sha256(prompt.encode()).hexdigest()},
            managed_by=ManagedBy.AI_RUN,
        )
    if hold.replayed:
        yield from replay_events(user_id, hold, key, wait_seconds=ttl)
        return
    margin = timedelta(seconds=min(SETTLE_MARGIN_SECONDS, ttl / 10))
    run = DeliveredRun(user_id, prompt, key, hold, stop_at=hold.expires_at - margin)
    yield from stream_run(run, provider)
