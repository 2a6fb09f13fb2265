"""Commands for accounts: create-user, make-admin, revoke-sessions."""

from __future__ import annotations

import argparse

from credits_app.cli.output import emit
from credits_app.db import session_scope
from credits_app.services.sessions import end_all_sessions
from credits_app.services.users import create_user, find_user_by_email, set_admin


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    create = commands.add_parser(
        "create-user", parents=[common], help="register a user and print its id"
    )
    create.add_argument("email")
    create.add_argument("--password", required=True, help="at least 8 characters")
    create.add_argument("--admin", action="store_true", help="make the user an admin")
    create.set_defaults(handler=_create_user)

    admin = commands.add_parser("make-admin", parents=[common], help="give a user admin rights")
    admin.add_argument("email")
    admin.add_argument("--revoke", action="store_true", help="take admin rights away instead")
    admin.set_defaults(handler=_make_admin)

    revoke = commands.add_parser(
        "revoke-sessions", parents=[common], help="log a user out of every browser"
    )
    revoke.add_argument("email")
    revoke.set_defaults(handler=_revoke_sessions)


def _create_user(args: argparse.Namespace) -> int:
    with session_scope() as session:
        user = create_user(
            session=session, email=args.email, password=args.password, is_admin=args.admin
        )
    emit(args, str(user.id), {"id": user.id, "email": user.email, "isAdmin": user.is_admin})
    return 0


def _make_admin(args: argparse.Namespace) -> int:
    with session_scope() as session:
        user = set_admin(session=session, email=args.email, is_admin=not args.revoke)
    state = "is now an admin" if user.is_admin else "is no longer an admin"
    emit(args, f"{user.email} {state}", {"id": user.id, "isAdmin": user.is_admin})
    return 0


def _revoke_sessions(args: argparse.Namespace) -> int:
    with session_scope() as session:
        user = find_user_by_email(session=session, email=args.email)
        ended = end_all_sessions(session=session, user_id=user.id)
    noun = "session" if ended == 1 else "sessions"
    emit(args, f"{user.email}: {ended} {noun} ended", {"id": user.id, "sessionsEnded": ended})
    return 0
