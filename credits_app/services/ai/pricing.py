"""What each AI feature costs: one table, priced per 100 words of prompt plus output."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from credits_app.services.errors import InvalidRequest

EXAMPLE_FEATURE = "example-ai"
MAX_PROMPT_CHARS = 20_000
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class FeaturePrice:
    """A feature's price: `credits_per_100_words` for prompt + output, never below `minimum`.

    `max_output_words` caps the output; it is what makes the up-front estimate a true maximum.
    """

    credits_per_100_words: int
    minimum: int
    max_output_words: int

    def cost(self, words: int) -> int:
        """Credits for `words` words, rounded up, at least the minimum."""
        return max(self.minimum, math.ceil(words * self.credits_per_100_words / 100))


PRICES: dict[str, FeaturePrice] = {
    EXAMPLE_FEATURE: FeaturePrice(credits_per_100_words=2, minimum=1, max_output_words=300),
}


def count_words(text: str) -> int:
    """Words as the price counts them: runs of non-space characters."""
    return len(_WORD.findall(text))


def validate_prompt(prompt: object) -> str:
    """Return the prompt if it is a non-empty string of at most 20,000 characters.

    Raises:
        InvalidRequest: For anything else.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("prompt", "must be a non-empty string")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest("prompt", f"must be at most {MAX_PROMPT_CHARS} characters")
    return prompt


def estimate_cost(prompt: str, feature: str = EXAMPLE_FEATURE) -> int:
    """The most a request can cost: the prompt plus the longest output the feature allows.

    Raises:
        InvalidRequest: For an empty or over-long prompt.
    """
    price = PRICES[feature]
    return price.cost(count_words(validate_prompt(prompt)) + price.max_output_words)


def actual_cost(prompt: str, output: str, feature: str = EXAMPLE_FEATURE) -> int:
    """What a finished request costs, never more than its estimate."""
    price = PRICES[feature]
    cost = price.cost(count_words(prompt) + count_words(output))
    return min(cost, estimate_cost(prompt, feature))
