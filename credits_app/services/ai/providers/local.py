"""The offline default provider: analyses the prompt text locally and streams a report."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator

from credits_app.services.ai.providers import textkit

_PIECE = re.compile(r"\S+\s*")


def analyse(text: str) -> str:
    """Return a plain-text report: summary, key phrases, sentiment and statistics."""
    found = textkit.sentences(text)
    n_words = len(textkit.words(text))
    mood = textkit.sentiment(text)
    lines = ["Summary:"]
    lines += [f"- {sentence}" for sentence in textkit.summarise(text)]
    phrases = textkit.key_phrases(text)
    lines += ["", "Key phrases: " + (", ".join(phrases) if phrases else "(none found)")]
    cues = [*mood.positive[:4], *mood.negative[:4]]
    because = f"; cues: {', '.join(cues)}" if cues else ""
    lines += ["", f"Sentiment: {mood.label} ({mood.score:+.2f}{because})"]
    minutes = max(1, math.ceil(n_words / 200))
    lines += [
        "",
        f"Stats: {n_words} words, {len(found)} sentence(s), about {minutes} min to read.",
    ]
    return "\n".join(lines)


class LocalProvider:
    """Extractive summary, key phrases, lexicon sentiment and stats; no network, no model.

    It analyses the text it is given; it does not answer questions or generate new text.
    """

    name = "local"

    def __init__(self, chunk_delay: float = 0.03, words_per_chunk: int = 3) -> None:
        """Create the provider.

        Args:
            chunk_delay: Seconds between chunks, so a page shows the report streaming in.
            words_per_chunk: Words per streamed piece.
        """
        self.chunk_delay = chunk_delay
        self.words_per_chunk = words_per_chunk

    def stream(self, prompt: str, *, max_words: int) -> Iterator[str]:
        """Yield the report on `prompt` a few words at a time (at most `max_words` words)."""
        pieces = _PIECE.findall(analyse(prompt))[:max_words]
        for start in range(0, len(pieces), self.words_per_chunk):
            if start and self.chunk_delay:
                time.sleep(self.chunk_delay)
            yield "".join(pieces[start : start + self.words_per_chunk])
