"""Commands for billing: sync the price catalogue from Stripe (or the simulator)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from credits_app.cli.output import emit
from credits_app.db import session_scope
from credits_app.services.billing.catalogue import list_prices, sync_prices


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    sync = commands.add_parser(
        "sync-prices",
        parents=[common],
        help="pull active products and prices from Stripe into the catalogue",
    )
    sync.set_defaults(handler=_sync_prices)


def _sync_prices(args: argparse.Namespace) -> int:
    with session_scope() as session:
        summary = sync_prices(session=session)
        prices = list_prices(session=session)
    lines = [f"imported {len(summary.imported)} price(s):"]
    lines += [
        f"  {p.id:32} {p.kind:4} {p.product_name:24} {p.unit_amount / 100:>9.2f} "
        f"{p.currency.upper()} {p.included_credits:>8} credits{' *' if p.featured else ''}"
        for p in prices
    ]
    if summary.deactivated:
        lines.append("deactivated (gone from Stripe): " + ", ".join(summary.deactivated))
    for price_id, reason in summary.skipped.items():
        lines.append(f"skipped {price_id}: {reason}")
    for price_id in summary.missing_featured:
        lines.append(f"warning: STRIPE_PRICE_* names {price_id}, which was not imported")
    emit(args, "\n".join(lines), asdict(summary))
    return 0
