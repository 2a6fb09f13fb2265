"""`explain ENTRY_ID`: where one ledger entry came from, for support and audits."""

from __future__ import annotations

import argparse

from credits_app.cli.output import emit
from credits_app.db import read_session
from credits_app.observability.provenance import explain_entry, render
from credits_app.settings import get_settings

MAX_ENTRY_ID = 2**63 - 1  # the largest id the ledger's BIGINT column can hold


def entry_id(text: str) -> int:
    """Parse an ENTRY_ID argument: a positive integer."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_ENTRY_ID:
        raise argparse.ArgumentTypeError(f"not a ledger entry id: {text!r}")
    return int(text)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    explain = commands.add_parser(
        "explain",
        parents=[common],
        help="where a ledger entry came from: Stripe object, events, admin, hold, lots",
    )
    explain.add_argument("entry_id", type=entry_id, metavar="ENTRY_ID")
    explain.set_defaults(handler=_explain)


def _explain(args: argparse.Namespace) -> int:
    settings = get_settings()
    with read_session() as session:
        found = explain_entry(session=session, entry_id=args.entry_id, settings=settings)
    emit(args, "\n".join(render(found)), found.as_dict())
    return 0
