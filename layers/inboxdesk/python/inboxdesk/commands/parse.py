"""`inboxdesk parse [--jsonl] FILE...`: print what the mail reader sees in raw mail files, as JSON.

One indented object for one file, a JSON list for several, or one object per line with --jsonl.
Every object carries `file` (the path as given). Exit 0 when every path could be read; an
unreadable path (missing, a directory) is reported on stderr and makes the exit status 1, the
other files are still printed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('files', nargs='+', metavar='FILE', help='raw RFC 5322 / MIME files (.eml, mbox, ...)')
    parser.add_argument('--jsonl', action='store_true', help='one JSON object per line, in the order given')


def run(args: argparse.Namespace) -> int:
    from inboxdesk.mail import read_email

    status = 0
    results: list[dict[str, Any]] = []
    for name in args.files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            print(f'inboxdesk parse: cannot read {name}: {exc.strerror or exc}', file=sys.stderr)
            status = 1
            continue
        result = {'file': name, **read_email(raw).to_json()}
        if args.jsonl:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + '\n')
            sys.stdout.flush()
        else:
            results.append(result)
    if not args.jsonl and results:
        shown: Any = results[0] if len(args.files) == 1 else results
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2) + '\n')
    return status
