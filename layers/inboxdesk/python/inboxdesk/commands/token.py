"""`inboxdesk token --role admin|agent --email ADDRESS`: a JWT for the dev API, signed with the local key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inboxdesk.auth import DEV_TOKEN_LIFETIME, Role, issue_token, load_dev_key


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--role', choices=[r.value for r in Role], required=True, help='the group the user is in')
    parser.add_argument('--email', required=True, help="the user's email address")
    parser.add_argument('--lifetime', type=int, default=DEV_TOKEN_LIFETIME, help='seconds until the token expires')
    parser.add_argument('--dev-dir', type=Path, default=None, help='folder of the dev key (default: .dev)')


def run(args: argparse.Namespace) -> int:
    if '@' not in args.email:
        print(f'inboxdesk token: {args.email!r} is not an email address', file=sys.stderr)
        return 2
    if args.lifetime <= 0:
        print('inboxdesk token: --lifetime must be positive', file=sys.stderr)
        return 2
    key = load_dev_key(args.dev_dir)
    print(issue_token(Role(args.role), args.email, key=key, lifetime=args.lifetime))
    return 0
