"""AI providers: the offline local analyser and any OpenAI-compatible HTTP server."""

from __future__ import annotations

from credits_app.services.ai.providers.base import Provider
from credits_app.services.ai.providers.local import LocalProvider
from credits_app.services.ai.providers.openai_compat import OpenAICompatibleProvider
from credits_app.settings import get_settings

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def get_provider(*, paced: bool = True) -> Provider:
    """Return the provider AI_PROVIDER selects (`local` by default, or `openai`).

    Args:
        paced: Let the local analyser pause between chunks so a page shows it streaming;
            a caller that waits for the whole answer passes False.
    """
    settings = get_settings()
    if settings.ai_provider == "openai":
        return OpenAICompatibleProvider(
            base_url=settings.ai_base_url or DEFAULT_OPENAI_BASE_URL,
            api_key=settings.ai_api_key,
            model=settings.ai_model,
            timeout=settings.ai_timeout_seconds,
        )
    return LocalProvider() if paced else LocalProvider(chunk_delay=0)


__all__ = ["LocalProvider", "OpenAICompatibleProvider", "Provider", "get_provider"]
