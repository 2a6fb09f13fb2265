"""One typed settings object, read from the environment and `.env`."""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

# Values copied from examples and docs; seeing one in production means nobody set the secret.
PLACEHOLDER_MARKERS = ("your-secret", "changeme", "change-me", "placeholder", "example", "xxx")
PLACEHOLDER_VALUES = {"", "secret", "sk_test_...", "whsec_...", "pk_test_...", "password"}
# Argon2id defaults; production refuses anything cheaper (tests lower them for speed).
DEFAULT_ARGON2_TIME_COST = 3
DEFAULT_ARGON2_MEMORY_KIB = 65_536


class ConfigError(Exception):
    """Raised when a setting is missing or unusable; the message is one line for the operator."""


def _price_field(name: str) -> Any:
    return Field(
        default=None,
        validation_alias=AliasChoices(f"STRIPE_PRICE_{name}", f"NEXT_PUBLIC_STRIPE_PRICE_{name}"),
    )


class Settings(BaseSettings):
    """Every setting the app, the CLI and the tests read.

    Environment variable names are the upper-cased field names unless an alias says otherwise;
    the original system's `NEXT_PUBLIC_STRIPE_PRICE_*` names are accepted as aliases.
    """

    model_config = SettingsConfigDict(
        env_file=os.environ.get("CREDITS_ENV_FILE", str(PROJECT_ROOT / ".env")),
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    credits_env: Literal["dev", "prod"] = "dev"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    redis_url: str | None = None

    access_token_secret: str | None = None
    access_token_ttl_seconds: int = Field(default=60, ge=1, le=3600)
    admin_api_key: str | None = None
    # Argon2id cost; lower it only for test suites, never in production.
    argon2_time_cost: int = Field(default=DEFAULT_ARGON2_TIME_COST, ge=1)
    argon2_memory_kib: int = Field(default=DEFAULT_ARGON2_MEMORY_KIB, ge=1024)
    # Ignored (a warning at startup): admins are made with `make-admin EMAIL` only.
    admin_emails: str = ""
    admin_grant_confirm_threshold: int = Field(default=10_000, ge=1)

    # Accounts (docs/web.md#accounts): mail, email links, sessions, throttling.
    smtp_url: str | None = None
    mail_from: str = "Credits <no-reply@localhost>"
    email_verify_ttl_hours: int = Field(default=48, ge=1)
    password_reset_ttl_minutes: int = Field(default=30, ge=5, le=1440)
    session_idle_timeout_minutes: int = Field(default=4320, ge=5)
    session_lifetime_days: int = Field(default=14, ge=1, le=365)
    login_attempts_per_account_minute: int = Field(default=5, ge=1)
    login_attempts_per_account_hour: int = Field(default=20, ge=1)
    login_attempts_per_ip_minute: int = Field(default=30, ge=1)
    login_attempts_per_ip_hour: int = Field(default=300, ge=1)
    registrations_per_ip_hour: int = Field(default=10, ge=1)
    password_resets_per_ip_hour: int = Field(default=10, ge=1)
    account_mails_per_address_hour: int = Field(default=5, ge=1)
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)

    site_url: str = "http://localhost:3000"
    billing_portal_return_url: str | None = None

    payments_mode: Literal["stripe", "simulated"] | None = None
    # Production refuses simulated payments (it would take no real money) unless told to.
    allow_simulated_payments: bool = False
    # Interactive API docs at /api/docs: on in dev, off in production unless API_DOCS=1.
    api_docs: bool | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_publishable_key: str | None = None
    stripe_api_base: str | None = None
    stripe_price_starter: str | None = _price_field("STARTER")
    stripe_price_pro: str | None = _price_field("PRO")
    stripe_price_enterprise: str | None = _price_field("ENTERPRISE")
    stripe_price_monthly: str | None = _price_field("MONTHLY")
    stripe_price_yearly: str | None = _price_field("YEARLY")
    # Credits for a plan's free trial, granted once per user when the trial's $0 invoice is
    # paid. 0 (the default) grants nothing: credits follow money.
    trial_credits: int = Field(default=0, ge=0, le=1_000_000_000)
    # Promotional credits for each new user, granted once when they confirm their email
    # address (docs/web.md#sign-up-credits). 0 (the default) grants nothing.
    signup_credits: int = Field(default=0, ge=0, le=1_000_000_000)
    # How long they last, an ISO 8601 duration such as P30D (unset: they never expire).
    signup_credits_expire_after: str | None = None

    # Per-user requests per minute (0 = off): spend (and use-credits), reserve, and
    # settle (capture + release). Generous for real use; see docs/api.md#rate-limits.
    rate_limit_spend_per_minute: int = Field(default=600, ge=0)
    rate_limit_reserve_per_minute: int = Field(default=600, ge=0)
    rate_limit_settle_per_minute: int = Field(default=600, ge=0)
    # Holds a user may have active at once, AI runs included (0 = no cap).
    max_active_holds_per_user: int = Field(default=100, ge=0)
    max_request_bytes: int = Field(default=65_536, ge=1024)

    ai_provider: Literal["local", "openai"] = "local"
    ai_base_url: str | None = None
    ai_api_key: str | None = None
    ai_model: str = "gpt-4o-mini"
    ai_timeout_seconds: float = Field(default=30.0, gt=0)

    # Reconciliation against Stripe on a schedule (docs/reconcile.md): every N minutes
    # (0 = off) over the last N days. The schedule only reports drift; `reconcile --repair`
    # repairs.
    reconcile_every_minutes: int = Field(default=15, ge=0, le=10_080)
    reconcile_window_days: int = Field(default=3, ge=1, le=3660)
    # The webhook log (/admin/webhooks) keeps deliveries this many days; the hold sweeper
    # prunes older ones hourly, `prune-webhook-log` at once. `stripe_event` is never pruned.
    webhook_log_retention_days: int = Field(default=30, ge=1, le=3660)

    # Operations (docs/operations.md#health-metrics-and-logs). LOG_FORMAT=json writes one
    # JSON object per log line, each with the request id of the API request it belongs to.
    log_format: Literal["text", "json"] = "text"
    # When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` (else it is open:
    # keep it off the public internet at the proxy).
    metrics_token: str | None = None

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.credits_env_explicit and os.environ.get("REFLEX_ENV_MODE") == "prod":
            self.credits_env = "prod"
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'credits.db'}"
        self.database_url = _absolute_sqlite_url(self.database_url)
        if self.payments_mode is None:
            self.payments_mode = "stripe" if self.stripe_secret_key else "simulated"
        if self.payments_mode == "simulated" and not self.stripe_api_base:
            self.stripe_api_base = "http://127.0.0.1:12111"
        if not self.billing_portal_return_url:
            self.billing_portal_return_url = f"{self.site_url.rstrip('/')}/dashboard"
        return self

    @property
    def credits_env_explicit(self) -> bool:
        """Whether CREDITS_ENV was set rather than defaulted."""
        return "credits_env" in self.model_fields_set

    @property
    def is_production(self) -> bool:
        """Whether the app runs in production mode (strict secrets)."""
        return self.credits_env == "prod"

    @property
    def api_docs_enabled(self) -> bool:
        """Whether /api/docs is served (API_DOCS, else only outside production)."""
        return not self.is_production if self.api_docs is None else self.api_docs

    @property
    def featured_price_ids(self) -> dict[str, str]:
        """The STRIPE_PRICE_* settings that are set, by their short name."""
        names = ("starter", "pro", "enterprise", "monthly", "yearly")
        found = {n: getattr(self, f"stripe_price_{n}") for n in names}
        return {n: v for n, v in found.items() if v}


def _absolute_sqlite_url(url: str) -> str:
    """Resolve a relative SQLite path against the project root, so the CLI and app agree."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or ":memory:" in url:
        return url
    return prefix + str((PROJECT_ROOT / url[len(prefix) :]).resolve())


def is_placeholder(value: str | None) -> bool:
    """Tell whether a secret is missing or one of the values people copy from examples."""
    if value is None or value.strip().lower() in PLACEHOLDER_VALUES:
        return True
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def _require_production_secrets(settings: Settings) -> None:
    if is_placeholder(settings.access_token_secret):
        raise ConfigError("ACCESS_TOKEN_SECRET is missing or a placeholder (set 32+ random chars)")
    if len(settings.access_token_secret or "") < 32:
        raise ConfigError("ACCESS_TOKEN_SECRET is too short (use at least 32 characters)")
    if settings.admin_api_key is not None:
        if is_placeholder(settings.admin_api_key):
            raise ConfigError("ADMIN_API_KEY is a placeholder (set a random key or unset it)")
        if len(settings.admin_api_key) < 16:
            raise ConfigError("ADMIN_API_KEY is too short (use at least 16 characters)")
    if settings.payments_mode == "stripe":
        for name in ("stripe_secret_key", "stripe_webhook_secret"):
            if is_placeholder(getattr(settings, name)):
                raise ConfigError(f"{name.upper()} is missing or a placeholder")
    _refuse_unsafe_production(settings)


def _refuse_unsafe_production(settings: Settings) -> None:
    if settings.payments_mode == "simulated" and not settings.allow_simulated_payments:
        raise ConfigError(
            "payments are simulated (no STRIPE_SECRET_KEY, or PAYMENTS_MODE=simulated): set "
            "STRIPE_SECRET_KEY, or ALLOW_SIMULATED_PAYMENTS=1 to run a demo that takes no money"
        )
    if is_placeholder(settings.stripe_webhook_secret):
        raise ConfigError("STRIPE_WEBHOOK_SECRET is missing or a placeholder")
    for name, default in (
        ("argon2_time_cost", DEFAULT_ARGON2_TIME_COST),
        ("argon2_memory_kib", DEFAULT_ARGON2_MEMORY_KIB),
    ):
        if getattr(settings, name) < default:
            raise ConfigError(
                f"{name.upper()}={getattr(settings, name)} is below the default {default}: "
                "production never weakens password hashing"
            )


def _dev_secrets(data_dir: Path) -> dict[str, str]:
    """Load or create secrets for dev mode, kept in the data folder so they survive restarts."""
    path = data_dir / "dev-secrets.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        pass
    values = {
        "access_token_secret": secrets.token_urlsafe(48),
        "stripe_webhook_secret": "whsec_" + secrets.token_hex(24),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2))
    os.chmod(tmp, 0o600)
    try:
        # Two processes starting at once must end up with the same secrets: first link wins.
        os.link(tmp, path)
    except FileExistsError:
        values = json.loads(path.read_text())
    finally:
        tmp.unlink(missing_ok=True)
    return values


def load_settings() -> Settings:
    """Read and validate the settings, filling dev-mode secrets.

    Raises:
        ConfigError: In production mode, when a secret is missing or a placeholder.
    """
    settings = Settings()
    _warn_about_ignored(settings)
    _check_signup_credits(settings)
    if settings.is_production:
        _require_production_secrets(settings)
        return settings
    missing = settings.access_token_secret is None or (
        settings.payments_mode == "simulated" and settings.stripe_webhook_secret is None
    )
    if missing:
        generated = _dev_secrets(settings.data_dir)
        if settings.access_token_secret is None:
            settings.access_token_secret = generated["access_token_secret"]
        if settings.stripe_webhook_secret is None and settings.payments_mode == "simulated":
            settings.stripe_webhook_secret = generated["stripe_webhook_secret"]
    return settings


def _check_signup_credits(settings: Settings) -> None:
    """Refuse a sign-up credits lifetime that is not an ISO 8601 duration; normalise it.

    Raises:
        ConfigError: Naming SIGNUP_CREDITS_EXPIRE_AFTER and what it should look like.
    """
    from credits_app.services.lots.policy import parse_duration  # the app's one parser

    value = (settings.signup_credits_expire_after or "").strip()
    if not value:
        settings.signup_credits_expire_after = None
        return
    if parse_duration(value) is None:
        raise ConfigError(
            f"SIGNUP_CREDITS_EXPIRE_AFTER={value!r} is not an ISO 8601 duration such as P30D, "
            "P3M or P1Y (leave it unset for credits that never expire)"
        )
    settings.signup_credits_expire_after = value.upper()


def _warn_about_ignored(settings: Settings) -> None:
    """Say once per process what a setting no longer does, instead of failing later."""
    if settings.admin_emails.strip():
        _warn_once(
            "ADMIN_EMAILS is set but ignored: admin rights come only from "
            "`python -m credits_app make-admin EMAIL` (see docs/web.md#admins)"
        )
    if settings.is_production and not settings.smtp_url:
        _warn_once(
            "SMTP_URL is not set: account emails (verification, password reset) are only "
            "written to DATA_DIR/outbox; set SMTP_URL and MAIL_FROM (docs/operations.md)"
        )


@functools.cache
def _warn_once(message: str) -> None:
    logging.getLogger("credits_app.settings").warning(message)


@functools.cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests call `get_settings.cache_clear()`)."""
    return load_settings()
