"""`inboxdesk token --role admin|agent --email ADDRESS`: a JWT for the dev API, signed with the key in the
dev runtime's data folder (the running runtime's, found wherever this is run; never a new key)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inboxdesk.auth import Role


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from inboxdesk_cli.tokens import DEV_TOKEN_LIFETIME

    parser.add_argument('--role', choices=[r.value for r in Role], required=True, help='the group the user is in')
    parser.add_argument('--email', required=True, help="the user's email address")
    parser.add_argument('--lifetime', type=int, default=DEV_TOKEN_LIFETIME, help='seconds until the token expires')
    parser.add_argument(
        '--dev-dir',
        type=Path,
        default=None,
        help='the data folder of `inboxdesk dev` (its --data-dir), which holds the signing key jwt.key; by default'
        ' the folder of the dev runtime running on this machine, else .dev here. Nothing is created.',
    )


def run(args: argparse.Namespace) -> int:
    from inboxdesk_cli.data_dir import find_signing_key
    from inboxdesk_cli.errors import DevRuntimeError
    from inboxdesk_cli.tokens import issue_token

    if '@' not in args.email:
        print(f'inboxdesk token: {args.email!r} is not an email address', file=sys.stderr)
        return 2
    if args.lifetime <= 0:
        print('inboxdesk token: --lifetime must be positive', file=sys.stderr)
        return 2
    try:
        key = find_signing_key(args.dev_dir)
    except DevRuntimeError as error:
        print(f'inboxdesk token: {error}', file=sys.stderr)
        return 1
    print(issue_token(Role(args.role), args.email, key=key, lifetime=args.lifetime))
    return 0
