"""Simulator settings, read from environment variables and command-line flags."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .versions import CURRENT, SUPPORTED

DEFAULT_API_BASE = "http://127.0.0.1:12111"
DEFAULT_API_VERSION = CURRENT
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
# Backoff like Stripe's, compressed to ~9 minutes so a restarting dev app catches up.
DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
# Host names a request may carry besides api_base's own; anything else is DNS rebinding.
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")
MIN_CONTROL_TOKEN_LENGTH = 16


class LiveKeyRefused(ValueError):
    """Raised when the simulator is asked to run with a live Stripe key."""


def is_live_key(key: str | None) -> bool:
    """Tell whether an API key belongs to live mode.

    Args:
        key: The API key, possibly empty.

    Returns:
        True for `sk_live_`/`rk_live_` keys.
    """
    return bool(key) and key.startswith(LIVE_KEY_PREFIXES)


def new_webhook_secret() -> str:
    """Generate a signing secret in Stripe's `whsec_` format."""
    return "whsec_" + secrets.token_hex(24)


def new_control_token() -> str:
    """Generate the token the `/_sim/*` helpers require (printed at start)."""
    return secrets.token_urlsafe(32)


def parse_hosts(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of host names, e.g. `sim.internal, [::1]`."""
    return tuple(part.strip().strip("[]").lower() for part in text.split(",") if part.strip())


def parse_delays(text: str) -> tuple[float, ...]:
    """Parse a comma-separated list of retry delays in seconds, e.g. `0.5,1,2`."""
    return tuple(float(part) for part in text.split(",") if part.strip())


@dataclass
class SimConfig:
    """Everything the simulator needs to run.

    Attributes:
        api_base: The address the SDK and the browser use to reach the simulator; hosted
            checkout and portal URLs are built from it.
        webhook_secret: Secret used to sign delivered events; never shown by the helpers.
        control_token: What `/_sim/*` helpers (all but health) require in `X-Sim-Token` or
            `Authorization: Bearer`; random per start unless given.
        allowed_hosts: Host names requests may be addressed to, besides `api_base`'s host;
            `*` allows any (only for a simulator reachable from other machines on purpose).
        forward_to: Webhook URL events are delivered to; empty disables delivery.
        secret_key: The API key the app is configured with, only checked for live mode.
        retry_delays: Seconds to wait before each redelivery of a failed event.
        delivery_timeout: Seconds to wait for the webhook endpoint to answer.
        delivery_workers: Concurrent deliveries; 1 keeps events in order.
        async_settle_seconds: Real seconds after which a delayed payment settles by itself
            (0 waits for `/settle` or the test clock).
        api_version: The version webhook events are rendered in, like a webhook endpoint's
            (one of `versions.SUPPORTED`); API responses follow each request's
            `Stripe-Version` header instead.
        portal_proration_behavior: What the portal's plan and quantity changes pass as
            `proration_behavior` (Stripe's portal default is `create_prorations`).
    """

    api_base: str = DEFAULT_API_BASE
    webhook_secret: str = field(default_factory=new_webhook_secret, repr=False)
    control_token: str = field(default_factory=new_control_token, repr=False)
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    forward_to: str = ""
    secret_key: str = ""
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    delivery_timeout: float = 10.0
    delivery_workers: int = 1
    async_settle_seconds: float = 10.0
    api_version: str = DEFAULT_API_VERSION
    portal_proration_behavior: str = "create_prorations"

    def __post_init__(self) -> None:
        if len(self.control_token) < MIN_CONTROL_TOKEN_LENGTH:
            raise ValueError(
                f"the simulator's control token must have at least {MIN_CONTROL_TOKEN_LENGTH} "
                "characters (STRIPE_SIM_CONTROL_TOKEN)"
            )

    @property
    def host(self) -> str:
        """Host part of `api_base`."""
        return urlsplit(self.api_base).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """Port part of `api_base` (80 when absent)."""
        return urlsplit(self.api_base).port or 80

    @property
    def trusted_hosts(self) -> frozenset[str]:
        """Every host name a request may be addressed to: `allowed_hosts` and `api_base`'s."""
        return frozenset({*self.allowed_hosts, self.host.lower()})

    def url(self, path: str) -> str:
        """Build an absolute URL on the simulator for `path`."""
        return self.api_base.rstrip("/") + path

    def check_not_live(self) -> None:
        """Raise `LiveKeyRefused` when configured with a live key."""
        if is_live_key(self.secret_key):
            raise LiveKeyRefused(
                "refusing to run with a live Stripe key (STRIPE_SECRET_KEY starts with "
                f"{self.secret_key[:8]}); the simulator only accepts test keys"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimConfig:
        """Read the configuration from environment variables.

        Args:
            environ: Variables to read; defaults to `os.environ`.

        Returns:
            A config honouring `STRIPE_API_BASE`, `STRIPE_WEBHOOK_SECRET`,
            `STRIPE_SIM_FORWARD_TO`, `STRIPE_SECRET_KEY`, `STRIPE_SIM_RETRY_DELAYS`,
            `STRIPE_SIM_DELIVERY_TIMEOUT`, `STRIPE_SIM_DELIVERY_WORKERS`,
            `STRIPE_SIM_ASYNC_SETTLE_SECONDS`, `STRIPE_SIM_API_VERSION`,
            `STRIPE_SIM_CONTROL_TOKEN` and `STRIPE_SIM_ALLOWED_HOSTS` (added to the defaults).

        Raises:
            ValueError: When `STRIPE_SIM_API_VERSION` is not a supported version, or the
                control token is too short.
        """
        env = os.environ if environ is None else environ
        config = cls(
            api_base=env.get("STRIPE_API_BASE") or DEFAULT_API_BASE,
            forward_to=env.get("STRIPE_SIM_FORWARD_TO", ""),
            secret_key=env.get("STRIPE_SECRET_KEY", ""),
            control_token=env.get("STRIPE_SIM_CONTROL_TOKEN") or new_control_token(),
        )
        if env.get("STRIPE_SIM_ALLOWED_HOSTS"):
            extra = parse_hosts(env["STRIPE_SIM_ALLOWED_HOSTS"])
            config.allowed_hosts = (*DEFAULT_ALLOWED_HOSTS, *extra)
        if env.get("STRIPE_WEBHOOK_SECRET"):
            config.webhook_secret = env["STRIPE_WEBHOOK_SECRET"]
        if env.get("STRIPE_SIM_RETRY_DELAYS"):
            config.retry_delays = parse_delays(env["STRIPE_SIM_RETRY_DELAYS"])
        if env.get("STRIPE_SIM_DELIVERY_TIMEOUT"):
            config.delivery_timeout = float(env["STRIPE_SIM_DELIVERY_TIMEOUT"])
        if env.get("STRIPE_SIM_DELIVERY_WORKERS"):
            config.delivery_workers = int(env["STRIPE_SIM_DELIVERY_WORKERS"])
        if env.get("STRIPE_SIM_ASYNC_SETTLE_SECONDS"):
            config.async_settle_seconds = float(env["STRIPE_SIM_ASYNC_SETTLE_SECONDS"])
        if env.get("STRIPE_SIM_API_VERSION"):
            config.api_version = env["STRIPE_SIM_API_VERSION"]
            if config.api_version not in SUPPORTED:
                raise ValueError(
                    f"STRIPE_SIM_API_VERSION={config.api_version} is not supported; use one "
                    f"of {', '.join(SUPPORTED)}"
                )
        return config
