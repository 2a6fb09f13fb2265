"""`prune-webhook-log`: drop webhook log rows past their retention (the app does it hourly)."""

from __future__ import annotations

import argparse

from credits_app.cli.output import emit
from credits_app.db import session_scope
from credits_app.services.billing.webhook_log import prune_deliveries
from credits_app.settings import get_settings

MAX_DAYS = 3660


def days(text: str) -> int:
    """Parse --days: a whole number of days, at least 1."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"not a number of days from 1 to {MAX_DAYS}: {text!r}")
    return int(text)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    prune = commands.add_parser(
        "prune-webhook-log",
        parents=[common],
        help="delete webhook log rows older than the retention (processed event ids stay)",
    )
    prune.add_argument(
        "--days",
        type=days,
        metavar="N",
        help="keep the last N days (default: WEBHOOK_LOG_RETENTION_DAYS, 30)",
    )
    prune.set_defaults(handler=_prune)


def _prune(args: argparse.Namespace) -> int:
    kept = args.days or get_settings().webhook_log_retention_days
    with session_scope() as session:
        pruned = prune_deliveries(session=session, older_than_days=kept)
    text = f"pruned {pruned} webhook log row(s) older than {kept} day(s)"
    emit(args, text, {"pruned": pruned, "days": kept})
    return 0
