"""Commands for access tokens: token."""

from __future__ import annotations

import argparse

from credits_app.cli import arguments
from credits_app.cli.output import emit
from credits_app.db import read_session
from credits_app.services.tokens import generate_access_token, verify_access_token
from credits_app.services.users import get_user


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the CLI."""
    token = commands.add_parser(
        "token", parents=[common], help="mint an access token for a user and a feature"
    )
    token.add_argument("user_id", type=arguments.user_id, metavar="USER_ID")
    token.add_argument("feature", metavar="FEATURE")
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default 60)")
    token.set_defaults(handler=_token)


def _token(args: argparse.Namespace) -> int:
    with read_session() as session:
        get_user(session=session, user_id=args.user_id)
    token = generate_access_token(args.user_id, args.feature, ttl_seconds=args.ttl)
    claims = verify_access_token(token)
    emit(args, token, {"token": token, "userId": args.user_id, "expiresAt": claims.expires_at})
    return 0
