"""Commands that prepare a database: migrate."""

from __future__ import annotations

import argparse

from credits_app.settings import get_settings


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    migrate = commands.add_parser(
        "migrate", parents=[common], help="apply database migrations (safe to repeat)"
    )
    migrate.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from credits_app.migrations import upgrade_database  # alembic is slow to import

    upgrade_database(get_settings().database_url)
    print("database is up to date")
    return 0
