"""The provider interface: turn a prompt into a stream of text pieces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class Provider(Protocol):
    """Something that answers a prompt, streaming its output.

    `stream` yields text pieces as they are produced and raises `ProviderError` when it
    cannot produce (more) output. It should stop by itself after about `max_words` words;
    the caller also cuts the output there, so a chatty provider can never cost more.
    """

    name: str

    def stream(self, prompt: str, *, max_words: int) -> Iterator[str]:
        """Yield the answer to `prompt` piece by piece."""
        ...
