"""Command-line interface: one module per group of commands, dispatched from here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from credits_app.services.errors import CreditsError
from credits_app.settings import ConfigError

COMMAND_MODULES = (
    "credits_app.cli.setup_commands",
    "credits_app.cli.user_commands",
    "credits_app.cli.ledger_commands",
    "credits_app.cli.token_commands",
    "credits_app.cli.hold_commands",
    "credits_app.cli.billing_commands",
    "credits_app.cli.reconcile_commands",
    "credits_app.cli.run_commands",
    "credits_app.cli.explain_commands",
    "credits_app.cli.webhook_commands",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every command module's subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m credits_app",
        description="Manage Credits: users, grants, balances and ledger checks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (0 ok, 1 failed, 2 usage or config error)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CreditsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"error: database unavailable: {reason}", file=sys.stderr)
        return 1
