"""Command line: `python -m credits_app.stripe_sim [--host H] [--port P] [--forward-to URL]`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from .config import SimConfig, is_live_key


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the flags; each overrides its environment variable."""
    parser = argparse.ArgumentParser(
        prog="python -m credits_app.stripe_sim",
        description="Stateful Stripe-compatible simulator for offline development and tests.",
    )
    parser.add_argument("--host", help="interface to bind (default: STRIPE_API_BASE's host)")
    parser.add_argument("--port", type=int, help="port (default: STRIPE_API_BASE's port)")
    parser.add_argument("--forward-to", help="webhook URL (env STRIPE_SIM_FORWARD_TO)")
    parser.add_argument("--webhook-secret", help="signing secret (env STRIPE_WEBHOOK_SECRET)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SimConfig:
    """Combine environment variables and flags; `--port` also changes `api_base`."""
    config = SimConfig.from_env()
    if args.port:
        parts = urlsplit(config.api_base)
        config.api_base = f"{parts.scheme}://{parts.hostname}:{args.port}"
    if args.forward_to is not None:
        config.forward_to = args.forward_to
    if args.webhook_secret:
        config.webhook_secret = args.webhook_secret
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until interrupted.

    Returns:
        The exit code: 2 when a live key or an invalid setting is configured, else 0.
    """
    args = parse_args(argv)
    if is_live_key(os.environ.get("STRIPE_SECRET_KEY")):
        print(
            "stripe_sim: refusing to start: STRIPE_SECRET_KEY is a live key; "
            "the simulator only runs with test keys (sk_test_...).",
            file=sys.stderr,
        )
        return 2
    try:
        config = build_config(args)
    except ValueError as exc:  # an unsupported API version, a too short token
        print(f"stripe_sim: refusing to start: {exc}", file=sys.stderr)
        return 2
    import uvicorn  # deferred so the live-key refusal above stays instant

    from .app import create_app

    target = config.forward_to or "nowhere (set STRIPE_SIM_FORWARD_TO or --forward-to)"
    print(f"Stripe simulator on {config.api_base}; events to {target}", file=sys.stderr)
    # The signing secret stays out of logs: show where it came from, not the secret itself.
    given = args.webhook_secret or os.environ.get("STRIPE_WEBHOOK_SECRET")
    origin = "as configured" if given else "generated and never shown; pass --webhook-secret"
    print(f"Events are signed with a whsec_ secret ({origin})", file=sys.stderr)
    # The token only opens the test helpers of this local process, and is new at each start
    # unless STRIPE_SIM_CONTROL_TOKEN chose it: the developer needs to see it.
    print(f"/_sim/* helpers need the header  X-Sim-Token: {config.control_token}", file=sys.stderr)
    host = args.host or config.host
    uvicorn.run(create_app(config), host=host, port=config.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
