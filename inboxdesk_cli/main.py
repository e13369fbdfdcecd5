"""The `inboxdesk` command line. Each command lives in `inboxdesk_cli.commands.<name>` with
`add_arguments(parser)` and `run(args) -> int`, imported only when it is the one called."""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import PackageNotFoundError, version

COMMANDS = {
    'parse': 'read raw mail files (every message of an mbox) and print what the mail reader sees, as JSON',
    'dev': 'run the whole system on this machine, on the embedded AWS',
    'tickets': 'list the tickets of a running dev system',
    'outbox': 'list the mail a running dev system sent: through SES, or (--smtp) what its SMTP catcher received',
    'token': "print a JWT for the dev API, signed with the key in the dev runtime's data folder",
}


def installed_version() -> str:
    try:
        return version('inboxdesk')
    except PackageNotFoundError:
        return 'unknown (not installed: run `make install`)'


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog='inboxdesk', description='Inboxdesk command line')
    parser.add_argument('--version', action='version', version=f'inboxdesk {installed_version()}')
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    chosen = argv[0] if argv and argv[0] in COMMANDS else None
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(f'inboxdesk_cli.commands.{name}').add_arguments(sub)
    args = parser.parse_args(argv)
    module = importlib.import_module(f'inboxdesk_cli.commands.{args.command}')
    return int(module.run(args))


if __name__ == '__main__':
    sys.exit(main())
