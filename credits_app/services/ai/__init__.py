"""The example AI feature: metered by holds, behind a pluggable provider."""

from credits_app.services.ai.errors import AiRunFailed, ProviderError
from credits_app.services.ai.events import AiEvent, Chunk, Failed, Finished, Reserved
from credits_app.services.ai.flow import Undelivered, stop_run, stream_example
from credits_app.services.ai.pricing import (
    EXAMPLE_FEATURE,
    PRICES,
    FeaturePrice,
    actual_cost,
    count_words,
    estimate_cost,
)
from credits_app.services.ai.providers import (
    LocalProvider,
    OpenAICompatibleProvider,
    Provider,
    get_provider,
)
from credits_app.services.ai.run import ExampleResult, run_example

__all__ = [
    "EXAMPLE_FEATURE",
    "PRICES",
    "AiEvent",
    "AiRunFailed",
    "Chunk",
    "ExampleResult",
    "Failed",
    "FeaturePrice",
    "Finished",
    "LocalProvider",
    "OpenAICompatibleProvider",
    "Provider",
    "ProviderError",
    "Reserved",
    "Undelivered",
    "actual_cost",
    "count_words",
    "estimate_cost",
    "get_provider",
    "run_example",
    "stop_run",
    "stream_example",
]
