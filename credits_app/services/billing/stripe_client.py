"""The one place that builds the official Stripe client and translates its errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from credits_app.services.errors import CreditsError, InvalidRequest, Unavailable
from credits_app.settings import get_settings

logger = logging.getLogger(__name__)

# The simulator accepts any test key; a fixed one keeps "no keys at all" working.
SIMULATED_KEY = "sk_test_credits_simulator"
# Every request names the API version whose shapes this code reads, so upgrading the SDK
# can never silently change them. Webhook events come in the *endpoint's* version instead;
# handlers read that version's shapes too (see stripe_shapes.py).
STRIPE_API_VERSION = "2026-10-28.endive"


@functools.cache
def _client(key: str, api_base: str | None) -> stripe.StripeClient:
    options: dict = {"stripe_version": STRIPE_API_VERSION, "max_network_retries": 2}
    if api_base:
        options["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(key, **options)


def get_stripe_client() -> stripe.StripeClient:
    """Return a StripeClient for the configured payments mode.

    In simulated mode it talks to STRIPE_API_BASE (the project's simulator, stripe-mock or
    any compatible server). In stripe mode it talks to api.stripe.com unless STRIPE_API_BASE
    is set explicitly.

    Raises:
        Unavailable: In stripe mode without STRIPE_SECRET_KEY.
    """
    settings = get_settings()
    key = settings.stripe_secret_key
    if settings.payments_mode == "simulated":
        return _client(key or SIMULATED_KEY, settings.stripe_api_base)
    if not key:
        raise Unavailable("payments are not configured: STRIPE_SECRET_KEY is not set")
    return _client(key, settings.stripe_api_base)


def _where() -> str:
    settings = get_settings()
    if settings.payments_mode == "simulated":
        return f"{settings.stripe_api_base} (the simulator: is `make stripe-sim` running?)"
    return settings.stripe_api_base or "api.stripe.com"


@contextmanager
def stripe_errors(action: str) -> Iterator[None]:
    """Turn Stripe SDK errors into domain errors, so callers never leak a traceback.

    Args:
        action: What was being done, for the message (e.g. "create a checkout session").

    Raises:
        Unavailable: When Stripe cannot be reached or fails on its side.
        InvalidRequest: When Stripe rejects the request as invalid.
    """
    try:
        yield
    except CreditsError:
        raise
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        where = _where()
        logger.warning(
            "Stripe at %s unreachable (%s) trying to %s", where, type(exc).__name__, action
        )
        raise Unavailable(
            f"the payment provider at {where} could not be reached to {action}"
        ) from exc
    except stripe.InvalidRequestError as exc:
        logger.warning("Stripe refused to %s: %s", action, exc.user_message)
        raise InvalidRequest(exc.param or "request", exc.user_message or "refused") from exc
    except stripe.StripeError as exc:
        logger.warning("Stripe failed to %s: %s", action, exc.user_message)
        raise Unavailable(f"the payment provider failed to {action}; try again") from exc
