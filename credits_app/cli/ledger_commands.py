"""Commands for credits: grant, balance, history, check, rebuild-rollups."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import datetime

from credits_app.cli import arguments
from credits_app.cli.output import emit
from credits_app.db import read_session, session_scope
from credits_app.models import utcnow
from credits_app.services.accounts import balance_of
from credits_app.services.admin_grants import (
    CATEGORIES,
    EXPIRY_FIELD,
    EXPIRY_RULE,
    grant_lot_credits,
    parse_expiry,
)
from credits_app.services.errors import InvalidRequest
from credits_app.services.history import ledger_history
from credits_app.services.invariants import check_ledger
from credits_app.services.lots.policy import parse_duration
from credits_app.services.rollups import check_rollups, rebuild_rollups


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    grant = commands.add_parser("grant", parents=[common], help="grant credits to a user")
    grant.add_argument("user_id", type=arguments.user_id, metavar="USER_ID")
    grant.add_argument("amount", type=int, metavar="AMOUNT")
    grant.add_argument("--reason", required=True, help="shown in the user's ledger")
    grant.add_argument("--key", required=True, help="idempotency key: rerunning replays")
    grant.add_argument(
        "--category",
        choices=CATEGORIES,
        default=None,
        help="the lot's category (default: paid); promotional credits are spent first",
    )
    expiry = grant.add_mutually_exclusive_group()
    expiry.add_argument(
        "--expires-at",
        metavar="WHEN",
        help=f"when the credits expire (default: never); {EXPIRY_RULE}",
    )
    expiry.add_argument(
        "--expires-after",
        metavar="DURATION",
        help="or how long after the grant they expire, an ISO 8601 duration such as P30D",
    )
    grant.set_defaults(handler=_grant)

    balance = commands.add_parser("balance", parents=[common], help="print a user's balance")
    balance.add_argument("user_id", type=arguments.user_id, metavar="USER_ID")
    balance.set_defaults(handler=_balance)

    history = commands.add_parser(
        "history", parents=[common], help="print a user's ledger, newest first"
    )
    history.add_argument("user_id", type=arguments.user_id, metavar="USER_ID")
    history.add_argument("--limit", type=int, default=50, help="entries to show (max 500)")
    history.set_defaults(handler=_history)

    check = commands.add_parser(
        "check", parents=[common], help="verify every ledger invariant; exit 1 on a violation"
    )
    check.set_defaults(handler=_check)

    rebuild = commands.add_parser(
        "rebuild-rollups",
        parents=[common],
        help="sum the daily usage and ledger rollups afresh (after rows were edited by hand)",
    )
    rebuild.set_defaults(handler=_rebuild_rollups)


def _expiry_of(args: argparse.Namespace, now: datetime) -> datetime | None:
    """The expiry `--expires-at` or `--expires-after` asks for (None: never).

    Raises:
        InvalidRequest: When the value cannot be read.
    """
    if args.expires_at is not None:
        return parse_expiry(args.expires_at, "--expires-at")
    if args.expires_after is not None:
        duration = parse_duration(args.expires_after)
        if duration is None:
            raise InvalidRequest(
                "--expires-after", "must be an ISO 8601 duration such as P30D, P3M or PT12H"
            )
        return duration.after(now)
    return None


def _grant(args: argparse.Namespace) -> int:
    now = utcnow()
    expires_at = _expiry_of(args, now)
    try:
        with session_scope() as session:
            result = grant_lot_credits(
                session=session,
                user_id=args.user_id,
                amount=args.amount,
                reason=args.reason,
                idempotency_key=args.key,
                source="cli",
                category=args.category,
                expires_at=expires_at,
                now=now,
            )
    except InvalidRequest as exc:
        if exc.field != EXPIRY_FIELD:
            raise
        raise InvalidRequest("--expires-at", exc.reason) from None
    verb = "already granted (replayed)" if result.replayed else "granted"
    category = args.category or "paid"
    lasts = f"expires {expires_at.isoformat()}" if expires_at else "never expires"
    text = (
        f"{verb} {args.amount} {category} credits to user {args.user_id} ({lasts}): "
        f"balance {result.balance}"
    )
    data = {**asdict(result), "category": category, "expires_at": expires_at}
    emit(args, text, data)
    return 0


def _balance(args: argparse.Namespace) -> int:
    with read_session() as session:
        balance = balance_of(session=session, user_id=args.user_id)
    text = (
        f"{balance.balance} (available {balance.available}, held {balance.held}, "
        f"debt {balance.debt})"
    )
    data = {**asdict(balance), "available": balance.available}
    emit(args, text, data)
    return 0


def _history(args: argparse.Namespace) -> int:
    with read_session() as session:
        rows = ledger_history(session=session, user_id=args.user_id, limit=args.limit)
    lines = [f"{'id':>8}  {'when (UTC)':19}  {'kind':10} {'change':>10} {'balance':>10}  detail"]
    for row in rows:
        detail = row.feature or row.reason or ""
        when = row.created_at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            f"{row.id:>8}  {when:19}  {row.kind:10} {row.delta:>+10} {row.balance_after:>10}"
            f"  {detail}"
        )
    if not rows:
        lines.append("(no entries)")
    emit(args, "\n".join(lines), [asdict(row) for row in rows])
    return 0


def _check(args: argparse.Namespace) -> int:
    with read_session() as session:
        problems = check_ledger(session=session)
    emit(args, "\n".join(problems) or "OK", {"ok": not problems, "violations": problems})
    return 1 if problems else 0


def _rebuild_rollups(args: argparse.Namespace) -> int:
    with session_scope() as session:
        before = len(check_rollups(session))
        rebuild_rollups(session)
        session.commit()
    message = f"rollups rebuilt ({before} rows differed before)" if before else "rollups rebuilt"
    emit(args, message, {"rebuilt": True, "differed": before})
    return 0
