"""Production mode: migrations, strict secrets, Redis state, N workers, CORS on SITE_URL."""

from __future__ import annotations

import os
from dataclasses import dataclass

from credits_app.observability.multiproc import multiprocess_env
from credits_app.runtime import supervisor
from credits_app.runtime.ports import (
    DEFAULT_PROD_PORT,
    ensure_free,
    env_port,
    local_port_of,
    origin,
)
from credits_app.runtime.toolchain import has_frontend_toolchain, reflex_command, reflex_env
from credits_app.settings import ConfigError, Settings, get_settings

BACKEND_READY_TIMEOUT = 120.0
# A full production start compiles and bundles the frontend first.
FULLSTACK_READY_TIMEOUT = 900.0
REDIS_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class ProdPlan:
    """How the production server runs.

    Attributes:
        port: The single port serving pages, /_event and /api.
        host: Interface to bind.
        workers: Backend worker processes.
        backend_only: Serve only the backend (API and websocket), no pages.
    """

    port: int
    host: str
    workers: int
    backend_only: bool


def production_settings() -> Settings:
    """Load the settings in production mode (placeholder secrets raise ConfigError)."""
    os.environ["CREDITS_ENV"] = "prod"
    get_settings.cache_clear()
    return get_settings()


def prod_plan(
    settings: Settings,
    *,
    port: int | None,
    host: str,
    workers: int | None,
    backend_only: bool,
) -> ProdPlan:
    """Resolve port (flag, PORT, SITE_URL's local port, 8000) and workers (flag, WORKERS, 1).

    Raises:
        ConfigError: When several workers are asked for without REDIS_URL.
    """
    if workers is None:
        raw = os.environ.get("WORKERS", "").strip() or "1"
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"WORKERS={raw!r} is not a positive number")
        workers = int(raw)
    if workers < 1:
        raise ConfigError(f"--workers {workers} is not a positive number")
    if workers > 1 and not settings.redis_url:
        raise ConfigError(
            f"WORKERS={workers} needs REDIS_URL: workers share Reflex state through Redis"
        )
    default = local_port_of(settings.site_url) or DEFAULT_PROD_PORT
    port = port or env_port("PORT", default=default)
    return ProdPlan(port, host, workers, backend_only)


def check_redis(url: str) -> None:
    """Fail with one clear line when Redis does not answer.

    Raises:
        ConfigError: When the server is unreachable.
    """
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"REDIS_URL does not answer: {exc}") from None
    finally:
        client.close()


def prod_env(settings: Settings, plan: ProdPlan) -> dict[str, str]:
    """Environment for `reflex run --env prod`."""
    site = origin(settings.site_url)
    env = reflex_env(
        CREDITS_ENV="prod",
        REFLEX_USE_GRANIAN="1",  # real worker processes (Reflex's gunicorn path uses threads)
        GRANIAN_WORKERS=str(plan.workers),
        REFLEX_CORS_ALLOWED_ORIGINS=site,
    )
    env.setdefault("REFLEX_API_URL", site)
    for name in ("REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT", "REFLEX_REDIS_URL"):
        env.pop(name, None)
    if settings.redis_url:
        env["REFLEX_REDIS_URL"] = settings.redis_url
    return env


def prod_command(plan: ProdPlan) -> list[str]:
    """The `reflex run` command line for the plan."""
    ports = ["--backend-port", str(plan.port)]
    if plan.backend_only:
        return reflex_command(
            "run", "--env", "prod", "--backend-only", *ports, "--backend-host", plan.host
        )
    return reflex_command(
        "run", "--env", "prod", "--frontend-port", str(plan.port), *ports,
        "--backend-host", plan.host,
    )  # fmt: skip


def run_prod(settings: Settings, plan: ProdPlan) -> int:
    """Migrate, then serve until Ctrl-C or SIGTERM."""
    from credits_app.migrations import upgrade_database

    if not plan.backend_only and not has_frontend_toolchain():
        raise ConfigError("bun is not installed in .tools; run `make setup` first")
    if settings.redis_url:
        check_redis(settings.redis_url)
    ensure_free(plan.port, "server (PORT)", "" if plan.host == "0.0.0.0" else plan.host)  # noqa: S104
    upgrade_database(settings.database_url)
    print("database is up to date", flush=True)
    if settings.payments_mode == "simulated":  # only with ALLOW_SIMULATED_PAYMENTS=1
        print("warning: payments are simulated (ALLOW_SIMULATED_PAYMENTS=1): no real money")
    probe_host = "127.0.0.1" if plan.host in ("0.0.0.0", "") else plan.host  # noqa: S104
    env = prod_env(settings, plan)
    # Several workers sum their metrics through files in a folder of this run, emptied now.
    env.update(multiprocess_env(settings.data_dir, plan.port, plan.workers))
    child = supervisor.start(
        "Reflex (prod)",
        prod_command(plan),
        env=env,
        ready_url=f"http://{probe_host}:{plan.port}/ping",
    )
    try:
        timeout = BACKEND_READY_TIMEOUT if plan.backend_only else FULLSTACK_READY_TIMEOUT
        supervisor.wait_ready(child, timeout)
    except BaseException:
        child.stop()
        raise
    what = "backend" if plan.backend_only else "app"
    banner = (
        f"\nCredits {what} (production, {plan.workers} worker(s)) serves "
        f"http://{probe_host}:{plan.port}; public URL {settings.site_url}  (Ctrl-C stops)\n"
    )
    return supervisor.supervise([child], banner)
