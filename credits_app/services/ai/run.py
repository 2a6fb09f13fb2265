"""Run the example AI feature to completion: the API's one-shot form of `stream_example`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from credits_app.services.ai.errors import AiRunFailed
from credits_app.services.ai.events import AiEvent, Failed, Finished, Reserved
from credits_app.services.ai.flow import stream_example
from credits_app.services.ai.providers import Provider, get_provider


@dataclass(frozen=True)
class ExampleResult:
    """A finished run: its output, what it cost (at most the estimate) and the new balance."""

    result: str
    cost: int
    estimate: int
    balance: int
    available: int
    hold_id: int
    replayed: bool


def run_example(
    *,
    user_id: int,
    prompt: str,
    idempotency_key: str,
    on_event: Callable[[AiEvent], None] | None = None,
    provider: Provider | None = None,
) -> ExampleResult:
    """Run the whole flow, calling `on_event` for each event, and return the outcome.

    This consumer takes every chunk, so a run that fails part-way is charged for the output
    it produced, which the error then carries (`AiRunFailed.result`).

    Raises:
        AiRunFailed: When the provider failed or timed out (charged only for its output).
        InvalidRequest, InsufficientCredits, IdempotencyConflict: As `stream_example`.
    """
    estimate = 0
    # Nobody watches this run stream, so the local analyser need not pace its output.
    provider = provider or get_provider(paced=False)
    for event in stream_example(
        user_id=user_id, prompt=prompt, idempotency_key=idempotency_key, provider=provider
    ):
        if on_event is not None:
            on_event(event)
        if isinstance(event, Reserved):
            estimate = event.amount
        elif isinstance(event, Failed):
            raise AiRunFailed(
                event.message,
                event.code,
                event.balance,
                charged=event.charged,
                unpaid=event.unpaid,
                result=event.result,
            )
        elif isinstance(event, Finished):
            return ExampleResult(
                result=event.result,
                cost=event.cost,
                estimate=estimate or event.estimate,
                balance=event.balance,
                available=event.available,
                hold_id=event.hold_id,
                replayed=event.replayed,
            )
    raise AiRunFailed("the AI run ended without a result", "provider_error", 0)
