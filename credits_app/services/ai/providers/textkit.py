"""Pure-Python text analysis: extractive summary, key phrases, sentiment, basic statistics."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from credits_app.services.ai.providers.lexicon import (
    INTENSIFIERS,
    NEGATIONS,
    STOP_WORDS,
    VALENCE,
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•\d])")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*|\d+(?:[.,]\d+)?|[.,;:!?()\"]")
_CURLY = "\u2019"  # a typographic apostrophe, as in "don\u2019t"
_WORD = re.compile(r"[a-z][a-z'-]*")


@dataclass(frozen=True)
class Sentiment:
    """Lexicon sentiment: a score in -1..1, its label and the words that moved it."""

    score: float
    label: str
    positive: list[str]
    negative: list[str]


def sentences(text: str) -> list[str]:
    """Split text into sentences (and list items), dropping empty pieces."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s and s.strip()]


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes normalised."""
    return _WORD.findall(text.lower().replace(_CURLY, "'"))


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stop words, nothing shorter than three letters."""
    return [w for w in words(text) if w not in STOP_WORDS and len(w) > 2]


def summarise(text: str, max_sentences: int = 3) -> list[str]:
    """Pick the sentences that best cover the text's frequent content words, in text order."""
    found = sentences(text)
    if len(found) <= 1:
        return found
    freq = Counter(content_words(text))
    top = max(freq.values(), default=1)

    def score(sentence: str) -> float:
        terms = content_words(sentence)
        # Normalise by sqrt(length) so long sentences do not win just by being long.
        return sum(freq[t] / top for t in terms) / math.sqrt(len(terms) + 1)

    wanted = min(max_sentences, max(1, math.ceil(len(found) / 4)))
    best = sorted(range(len(found)), key=lambda i: (-score(found[i]), i))[:wanted]
    return [found[i] for i in sorted(best)]


def key_phrases(text: str, limit: int = 6) -> list[str]:
    """RAKE-style key phrases: runs of content words, scored by word degree over frequency."""
    phrases: list[list[str]] = []
    current: list[str] = []
    for token in _TOKEN.findall(text.lower().replace(_CURLY, "'")):
        if token in STOP_WORDS or not token[0].isalpha() or len(token) < 3:
            if current:
                phrases.append(current)
            current = []
        else:
            current.append(token)
    if current:
        phrases.append(current)
    phrases = [p for p in phrases if len(p) <= 3]
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for phrase in phrases:
        for word in phrase:
            freq[word] += 1
            degree[word] += len(phrase)
    scored: dict[str, float] = {}
    for phrase in phrases:
        scored[" ".join(phrase)] = sum(degree[w] / freq[w] for w in phrase) + 0.5 * sum(
            freq[w] - 1 for w in phrase
        )
    ranked = sorted(scored, key=lambda p: (-scored[p], p))
    chosen: list[str] = []
    for phrase in ranked:
        if not any(phrase in c or c in phrase for c in chosen):
            chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def sentiment(text: str) -> Sentiment:
    """Score sentiment with the lexicon, handling negation ("not good") and intensifiers."""
    tokens = words(text)
    total = 0.0
    positive: list[str] = []
    negative: list[str] = []
    for i, token in enumerate(tokens):
        valence = VALENCE.get(token)
        if valence is None:
            continue
        window = tokens[max(0, i - 3) : i]
        weight = float(valence)
        if window and window[-1] in INTENSIFIERS:
            weight *= INTENSIFIERS[window[-1]]
        if any(w in NEGATIONS or w.endswith("n't") for w in window):
            weight *= -0.75
            token = f"not {token}"
        total += weight
        (positive if weight > 0 else negative).append(token)
    score = total / math.sqrt(total * total + 15) if total else 0.0
    label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    return Sentiment(round(score, 2), label, positive, negative)
