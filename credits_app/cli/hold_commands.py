"""Commands for what runs out: list a user's active holds, expire due holds and lots."""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict

from credits_app.cli import arguments
from credits_app.cli.output import emit
from credits_app.db import read_session, session_scope
from credits_app.services.holds import active_holds, expire_due_holds
from credits_app.services.holds.expiry import expire_due_lots


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    sweep = commands.add_parser(
        "sweep-holds", parents=[common], help="release every hold whose time ran out"
    )
    sweep.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="keep sweeping at this interval until interrupted (default: sweep once)",
    )
    sweep.set_defaults(handler=_sweep, once=_sweep_once)

    lots = commands.add_parser(
        "expire-lots", parents=[common], help="expire every credit lot whose time ran out"
    )
    lots.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="keep expiring at this interval until interrupted (default: once)",
    )
    lots.set_defaults(handler=_sweep, once=_expire_lots_once)

    holds = commands.add_parser("holds", parents=[common], help="list a user's active holds")
    holds.add_argument("user_id", type=arguments.user_id, metavar="USER_ID")
    holds.set_defaults(handler=_holds)


def _sweep_once(args: argparse.Namespace) -> None:
    with session_scope() as session:
        expired = expire_due_holds(session=session)
    emit(args, f"expired {expired} hold(s)", {"expired": expired})


def _expire_lots_once(args: argparse.Namespace) -> None:
    with session_scope() as session:
        expired = expire_due_lots(session=session)
    emit(args, f"expired {expired} lot(s)", {"expired": expired})


def _sweep(args: argparse.Namespace) -> int:
    if args.every is None:
        args.once(args)
        return 0
    if args.every <= 0:
        raise SystemExit("error: --every must be a positive number of seconds")
    try:
        while True:
            args.once(args)
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 0


def _holds(args: argparse.Namespace) -> int:
    with read_session() as session:
        views = active_holds(session=session, user_id=args.user_id)
    lines = [f"{'hold':>8}  {'feature':20} {'amount':>8}  expires (UTC)"]
    lines += [
        f"{v.hold_id:>8}  {v.feature:20} {v.amount:>8}  {v.expires_at:%Y-%m-%d %H:%M:%S}"
        for v in views
    ]
    emit(args, "\n".join(lines), [asdict(v) for v in views])
    return 0
