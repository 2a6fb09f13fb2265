"""Commands: billing (not implemented yet)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's subcommands (none yet)."""
