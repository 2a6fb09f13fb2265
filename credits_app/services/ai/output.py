"""A provider's output as a run consumes it: cut at the priced maximum, failures as items."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from credits_app.services.ai.errors import ProviderError
from credits_app.services.ai.pricing import count_words
from credits_app.services.ai.providers import Provider

logger = logging.getLogger(__name__)


def _clip(done: str, piece: str, max_words: int) -> tuple[str, bool]:
    """Cut `piece` so `done + piece` has at most `max_words` words; say whether it was cut."""
    text = done + piece
    if count_words(text) <= max_words:
        return piece, False
    end = [m.end() for m in re.finditer(r"\S+", text)][max_words - 1] if max_words else 0
    return text[:end][len(done) :], True


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


def output_pieces(provider: Provider, prompt: str, max_words: int) -> Iterator[str | ProviderError]:
    """Yield the output's pieces; a failure comes last, as a `ProviderError` item.

    A provider bug (any other exception) is logged and reported as `provider_error`: it
    must not become a 500 or a charge for output that never came.
    """
    try:
        yield from _produce(provider, prompt, max_words)
    except ProviderError as exc:
        yield exc
    except Exception:
        logger.exception("AI provider %s failed unexpectedly", provider.name)
        yield ProviderError("AI provider failed")
