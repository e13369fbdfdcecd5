"""The commands of the `inboxdesk` command line, one module each (see `inboxdesk_cli.main`)."""

from __future__ import annotations

import argparse
import os


def add_dev_system_arguments(parser: argparse.ArgumentParser) -> None:
    """`--host` and `--aws-port` of the running dev system a command reads, and `--json`."""
    env = os.environ.get
    parser.add_argument('--host', default=env('INBOXDESK_DEV_HOST', '127.0.0.1'), help='where `inboxdesk dev` runs')
    parser.add_argument(
        '--aws-port', type=int, default=int(env('INBOXDESK_DEV_AWS_PORT', '5000')), help="the dev system's moto port"
    )
    parser.add_argument('--json', action='store_true', help='print a JSON list of objects')
