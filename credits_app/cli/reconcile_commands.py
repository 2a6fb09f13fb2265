"""`reconcile`: compare Stripe with the ledger, report drift, and repair what can be."""

from __future__ import annotations

import argparse
from datetime import timedelta

from credits_app.cli.output import emit
from credits_app.models import utcnow
from credits_app.services.billing.reconcile import ReconcileReport, parse_window, reconcile
from credits_app.settings import get_settings


def _window(text: str) -> timedelta:
    """Parse `--since` for argparse: a bad value is a usage error (exit 2)."""
    try:
        return parse_window(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    command = commands.add_parser(
        "reconcile",
        parents=[common],
        help="compare Stripe's payments, refunds and disputes with the ledger; exit 1 on drift",
        description=(
            "List what Stripe has for the window (checkout sessions, invoices, payments, "
            "refunds, disputes) and report every way the ledger disagrees (docs/reconcile.md). "
            "Exit 0 when nothing drifts (or only what an admin accepted on /admin/reconcile), "
            "1 when something does."
        ),
    )
    command.add_argument(
        "--since",
        type=_window,
        default=None,
        metavar="WINDOW",
        help="how far back to look, e.g. 30d, 12h, 2w (default: RECONCILE_WINDOW_DAYS, 3d)",
    )
    command.add_argument(
        "--repair",
        action="store_true",
        help="replay what can be replayed through the webhook's exactly-once path, then check "
        "again; the exit status then says whether drift remains",
    )
    command.set_defaults(handler=_reconcile)


def _reconcile(args: argparse.Namespace) -> int:
    window = args.since or timedelta(days=get_settings().reconcile_window_days)
    report = reconcile(since=utcnow() - window, repair=args.repair)
    emit(args, _text(report), report.as_json())
    return 0 if report.ok else 1


def _text(report: ReconcileReport) -> str:
    """The report for people: what was compared, each drift, and each repair."""
    counts = ", ".join(f"{n} {name}" for name, n in report.checked.items())
    lines = [f"since {report.since.isoformat(timespec='seconds')}: checked {counts}"]
    if not report.drift:
        lines.append("no drift")
    for item in report.drift:
        who = f"user {item.user_id}" if item.user_id is not None else "no user"
        fix = "repairable" if item.repairable else "needs an admin"
        decided = report.decisions.get(item.key)
        if decided is not None:
            fix = f"{decided.decision} by {decided.admin_email or decided.admin_id}"
        lines.append(f"{item.kind:24} {item.object}  ({who}, {fix})")
        lines.append(f"{'':24} {item.detail}")
        if decided is not None:
            when = decided.at.isoformat(timespec="seconds")
            lines.append(f"{'':24} decided {when}: {decided.reason}")
        result = report.repairs.get(item.key)
        if result is not None:
            how = f"{result.outcome} via {result.event_id}" if result.event_id else result.outcome
            lines.append(f"{'':24} repair: {how}{f' ({result.error})' if result.error else ''}")
    if report.remaining is not None:
        left = len(report.open)
        lines.append(f"{left} open drift(s) remain" if left else "nothing open remains")
    return "\n".join(lines)
