"""Commands that start the app: run (dev), run-prod, stripe-sim."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from credits_app.settings import get_settings


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    run = commands.add_parser(
        "run",
        help="dev mode: Stripe simulator + Reflex with hot reload (ports FRONTEND_PORT/"
        "BACKEND_PORT, default 3000/8000)",
    )
    run.set_defaults(handler=_guarded(_run))

    prod = commands.add_parser(
        "run-prod",
        help="production mode: migrate, check secrets, serve on one port with N workers",
    )
    prod.add_argument("--workers", type=int, help="backend workers (default: WORKERS or 1)")
    prod.add_argument("--port", type=int, help="port (default: PORT, SITE_URL's port or 8000)")
    prod.add_argument("--host", default="0.0.0.0", help="interface (default 0.0.0.0)")  # noqa: S104
    prod.add_argument(
        "--backend-only", action="store_true", help="serve the API and websocket, no pages"
    )
    prod.set_defaults(handler=_guarded(_run_prod))

    sim = commands.add_parser(
        "stripe-sim", help="run only the Stripe simulator with the app's settings"
    )
    sim.set_defaults(handler=_guarded(_stripe_sim))


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn startup failures (busy port, child died) into one line and exit code 1."""

    def wrapper(args: argparse.Namespace) -> int:
        from credits_app.runtime.ports import PortError
        from credits_app.runtime.supervisor import StartupError

        try:
            return handler(args)
        except (PortError, StartupError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return wrapper


def _run(args: argparse.Namespace) -> int:
    from credits_app.migrations import upgrade_database
    from credits_app.runtime.dev import run_dev

    # Cheap when up to date, and it saves a newcomer from a "no such table" page.
    upgrade_database()
    return run_dev(get_settings())


def _run_prod(args: argparse.Namespace) -> int:
    from credits_app.runtime.prod import prod_plan, production_settings, run_prod

    settings = production_settings()
    plan = prod_plan(
        settings,
        port=args.port,
        host=args.host,
        workers=args.workers,
        backend_only=args.backend_only,
    )
    return run_prod(settings, plan)


def _stripe_sim(args: argparse.Namespace) -> int:
    from credits_app.runtime.dev import run_simulator

    return run_simulator(get_settings())
