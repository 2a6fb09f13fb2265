"""A provider for any OpenAI-compatible chat-completions server (OpenAI, Ollama, vLLM, ...)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx

from credits_app.services.ai.errors import ProviderError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class OpenAICompatibleProvider:
    """Streams `POST {base_url}/chat/completions` with `stream: true` (server-sent events).

    Connection errors and 429/5xx answers are retried with a short backoff, but only before
    any output was produced: once text reached the user, a retry could charge for it twice.
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.3,
    ) -> None:
        """Configure the endpoint; `timeout` bounds the whole call, each attempt included."""
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def _request(self, prompt: str, max_words: int) -> dict:
        system = f"You are a helpful assistant. Answer in at most {max_words} words."
        return {
            "model": self.model,
            "stream": True,
            "max_tokens": max_words,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
        }

    def stream(self, prompt: str, *, max_words: int) -> Iterator[str]:
        """Yield content deltas as they arrive.

        Raises:
            ProviderError: On a refused request, an unreachable server, a broken stream or
                when the call takes longer than `timeout` (code `provider_timeout`).
        """
        deadline = time.monotonic() + self.timeout
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = self._request(prompt, max_words)
        for attempt in range(self.retries + 1):
            produced = False
            try:
                for piece in self._attempt(headers, body, deadline):
                    produced = True
                    yield piece
                return
            except ProviderError as exc:
                last_try = attempt == self.retries or time.monotonic() >= deadline
                if produced or not exc.retryable or last_try:
                    raise
            time.sleep(min(self.backoff * 2**attempt, max(0.0, deadline - time.monotonic())))

    def _attempt(self, headers: dict, body: dict, deadline: float) -> Iterator[str]:
        remaining = max(0.1, deadline - time.monotonic())
        timeout = httpx.Timeout(remaining, connect=min(5.0, remaining))
        try:
            with (
                httpx.Client(timeout=timeout) as client,
                client.stream("POST", self.url, json=body, headers=headers) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    raise ProviderError(
                        f"AI provider answered HTTP {response.status_code}",
                        retryable=response.status_code in RETRY_STATUSES,
                    )
                yield from _deltas(response, deadline)
        except httpx.TimeoutException as exc:
            raise ProviderError("AI provider timed out", code="provider_timeout") from exc
        except httpx.TransportError as exc:
            # Connection refused or dropped: nothing was sent back, safe to try again.
            message = f"AI provider unreachable: {type(exc).__name__}"
            raise ProviderError(message, retryable=True) from exc


def _deltas(response: httpx.Response, deadline: float) -> Iterator[str]:
    """Parse the SSE stream (or a plain JSON answer from a server that ignores `stream`)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        yield _content(_json(response.read()), "message")
        return
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise ProviderError("AI provider timed out", code="provider_timeout")
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        text = _content(_json(data), "delta")
        if text:
            yield text


def _json(data: str | bytes) -> dict:
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise ProviderError("AI provider sent malformed JSON") from exc
    if not isinstance(payload, dict):
        raise ProviderError("AI provider sent an unexpected answer")
    return payload


def _content(payload: dict, field: str) -> str:
    if "error" in payload:
        raise ProviderError(f"AI provider error: {payload['error']}")
    try:
        choices = payload.get("choices") or [{}]
        text = choices[0].get(field, {}).get("content") or ""
    except (AttributeError, TypeError, IndexError) as exc:
        raise ProviderError("AI provider sent an unexpected answer") from exc
    if not isinstance(text, str):
        raise ProviderError("AI provider sent an unexpected answer")
    return text
