"""Dev mode: the Stripe simulator and `reflex run` side by side, zero configuration."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from credits_app.runtime import supervisor
from credits_app.runtime.ports import (
    DEFAULT_BACKEND_PORT,
    DEFAULT_FRONTEND_PORT,
    ensure_free,
    env_port,
)
from credits_app.runtime.toolchain import has_frontend_toolchain, reflex_command, reflex_env
from credits_app.settings import PROJECT_ROOT, ConfigError, Settings
from credits_app.stripe_sim.config import new_control_token

# Project folders that hold no app code: tests, benchmarks, docs and test output.
NOT_APP_CODE = ("tests", "bench", "docs", "artifacts")

# The first compile installs ~135 npm packages into .web; later starts take seconds.
FRONTEND_READY_TIMEOUT = 600.0
SIMULATOR_READY_TIMEOUT = 30.0
# The dev backend answers only this machine unless BACKEND_HOST says otherwise.
DEFAULT_BACKEND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class DevPlan:
    """Where each dev process listens.

    Attributes:
        frontend_port: The Vite dev server (the URL people open).
        backend_port: The Reflex backend with /api and /_event.
        site_url: Public URL for Checkout return links.
        simulator_base: STRIPE_API_BASE when payments are simulated, else "".
        backend_host: The interface the backend binds (BACKEND_HOST, default loopback).
    """

    frontend_port: int
    backend_port: int
    site_url: str
    simulator_base: str
    backend_host: str = DEFAULT_BACKEND_HOST

    @property
    def webhook_url(self) -> str:
        """Where the simulator delivers events."""
        return f"http://127.0.0.1:{self.backend_port}/api/webhooks/stripe"


def dev_plan(settings: Settings) -> DevPlan:
    """Read ports from FRONTEND_PORT/BACKEND_PORT (or Reflex's names) and the settings."""
    frontend = env_port("FRONTEND_PORT", "REFLEX_FRONTEND_PORT", default=DEFAULT_FRONTEND_PORT)
    backend = env_port("BACKEND_PORT", "REFLEX_BACKEND_PORT", default=DEFAULT_BACKEND_PORT)
    site_url = os.environ.get("SITE_URL") or f"http://localhost:{frontend}"
    simulated = settings.payments_mode == "simulated"
    host = os.environ.get("BACKEND_HOST") or os.environ.get("REFLEX_BACKEND_HOST")
    return DevPlan(
        frontend,
        backend,
        site_url,
        settings.stripe_api_base if simulated else "",
        host or DEFAULT_BACKEND_HOST,
    )


def dev_origins(plan: DevPlan) -> str:
    """The origins the dev backend accepts (CORS, websocket): the dev pages' own, not `*`."""
    site = urlsplit(plan.site_url)
    origins = [
        f"{site.scheme}://{site.netloc}",
        f"http://localhost:{plan.frontend_port}",
        f"http://127.0.0.1:{plan.frontend_port}",
    ]
    return ",".join(dict.fromkeys(origins))


def simulator_control_token() -> str:
    """The token the simulator's `/_sim/*` helpers require; the simulator prints it at start.

    STRIPE_SIM_CONTROL_TOKEN when set (a stable token for scripts), else one per run.
    """
    return os.environ.get("STRIPE_SIM_CONTROL_TOKEN") or _generated_control_token()


@functools.cache
def _generated_control_token() -> str:
    return new_control_token()


def simulator_env(settings: Settings, forward_to: str) -> dict[str, str]:
    """Environment for the simulator: the app's API base and webhook secret, forwarding."""
    if not settings.stripe_webhook_secret:
        raise ConfigError("STRIPE_WEBHOOK_SECRET is not set; the simulator needs it to sign")
    env = dict(os.environ)
    env["STRIPE_API_BASE"] = settings.stripe_api_base or ""
    env["STRIPE_WEBHOOK_SECRET"] = settings.stripe_webhook_secret
    env["STRIPE_SIM_FORWARD_TO"] = os.environ.get("STRIPE_SIM_FORWARD_TO") or forward_to
    env["STRIPE_SIM_CONTROL_TOKEN"] = simulator_control_token()
    return env


def start_simulator(settings: Settings, forward_to: str) -> supervisor.Child:
    """Start `python -m credits_app.stripe_sim` on STRIPE_API_BASE's port and wait for it."""
    base = settings.stripe_api_base or ""
    parts = urlsplit(base)
    ensure_free(parts.port or 80, "Stripe simulator (STRIPE_API_BASE)", parts.hostname or "")
    child = supervisor.start(
        "Stripe simulator",
        [sys.executable, "-m", "credits_app.stripe_sim", "--log-level", "warning"],
        env=simulator_env(settings, forward_to),
        ready_url=base.rstrip("/") + "/_sim/health",
    )
    try:
        supervisor.wait_ready(child, SIMULATOR_READY_TIMEOUT)
    except BaseException:
        child.stop()
        raise
    return child


def reload_exclusions(settings: Settings) -> str:
    """Folders whose changes must not restart the dev backend, in Reflex's `a:b` form.

    The SQLite database lives in the data folder, and its `-wal`/`-shm` files change on every
    write: watched, they would restart the backend in a loop.
    """
    folders = [PROJECT_ROOT / name for name in NOT_APP_CODE]
    data_dir = Path(settings.data_dir).resolve()
    if data_dir.is_relative_to(PROJECT_ROOT) and data_dir != PROJECT_ROOT:
        # Reflex watches the project's top-level entries, so exclude the one holding the data.
        folders.append(PROJECT_ROOT / data_dir.relative_to(PROJECT_ROOT).parts[0])
    configured = os.environ.get("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", "")
    # Reflex compares with Path.samefile, which fails on a folder that does not exist.
    existing = [str(folder) for folder in folders if folder.is_dir()]
    return ":".join(filter(None, [configured, *existing]))


def run_dev(settings: Settings) -> int:
    """Run the simulator (when payments are simulated) and `reflex run` until Ctrl-C."""
    if not has_frontend_toolchain():
        raise ConfigError("bun is not installed in .tools; run `make run` (it installs it)")
    plan = dev_plan(settings)
    ensure_free(plan.frontend_port, "frontend (FRONTEND_PORT)")
    ensure_free(plan.backend_port, "backend (BACKEND_PORT)")
    children: list[supervisor.Child] = []
    try:
        if plan.simulator_base:
            children.append(start_simulator(settings, plan.webhook_url))
            print(f"Stripe simulator on {plan.simulator_base} (payments are simulated)")
        env = reflex_env(SITE_URL=plan.site_url)
        if exclusions := reload_exclusions(settings):
            env["REFLEX_HOT_RELOAD_EXCLUDE_PATHS"] = exclusions
        for name in ("REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT"):
            env.pop(name, None)
        # rxconfig.py allows any origin in dev unless CORS_ALLOWED_ORIGINS lists some.
        if not env.get("CORS_ALLOWED_ORIGINS"):
            env["CORS_ALLOWED_ORIGINS"] = dev_origins(plan)
        command = reflex_command(
            "run",
            *("--frontend-port", str(plan.frontend_port)),
            *("--backend-port", str(plan.backend_port)),
            *("--backend-host", plan.backend_host),
        )
        reflex = supervisor.start(
            "Reflex", command, env=env, ready_url=f"http://localhost:{plan.frontend_port}/"
        )
        children.append(reflex)
        supervisor.wait_ready(reflex, FRONTEND_READY_TIMEOUT)
    except BaseException:
        supervisor.stop_all(children)
        raise
    url = f"http://localhost:{plan.frontend_port}"
    return supervisor.supervise(children, f"\nCredits is running: open {url}  (Ctrl-C stops)\n")


def run_simulator(settings: Settings) -> int:
    """Run only the simulator in the foreground, forwarding to the dev backend."""
    if settings.payments_mode != "simulated":
        raise ConfigError("STRIPE_SECRET_KEY is set (real Stripe); the simulator is not used")
    plan = dev_plan(settings)
    target = simulator_env(settings, plan.webhook_url)["STRIPE_SIM_FORWARD_TO"]
    child = start_simulator(settings, plan.webhook_url)
    banner = f"Stripe simulator on {plan.simulator_base}; events to {target}\nCtrl-C stops it."
    return supervisor.supervise([child], banner)
