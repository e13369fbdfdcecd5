"""`inboxdesk parse [--jsonl] FILE...`: print what the mail reader sees in raw mail files, as JSON.

A file is one message (.eml), or an mbox (it starts with a `From ` line): every message of an mbox is
read, each object carrying `mbox_message` (1 for the first). One indented object when there is one
message in all, a JSON list otherwise, or one object per line with --jsonl. Every object carries `file`
(the path as given). Exit 0 when every path could be read; an unreadable path (missing, a directory) is
reported on stderr and makes the exit status 1, the other files are still printed. Text from the mail
never reaches the terminal raw: control characters are written as JSON escapes.
"""

from __future__ import annotations

import argparse
import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inboxdesk_cli.terminal import safe_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('files', nargs='+', metavar='FILE', help='raw RFC 5322 / MIME files (.eml), or mbox files')
    parser.add_argument('--jsonl', action='store_true', help='one JSON object per line, in the order given')


def is_mbox(path: Path) -> bool:
    with path.open('rb') as f:
        return f.read(5) == b'From '


def messages(path: Path) -> Iterator[tuple[int | None, bytes]]:
    """(number in the mbox, raw bytes) of every message in `path`; the number is None for a single mail."""
    if not is_mbox(path):
        yield None, path.read_bytes()
        return
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield number, box.get_bytes(key)
    finally:
        box.close()


def run(args: argparse.Namespace) -> int:
    from inboxdesk.mail import read_email

    status = 0
    results: list[dict[str, Any]] = []
    for name in args.files:
        try:
            found = list(messages(Path(name)))
        except OSError as exc:
            print(f'inboxdesk parse: cannot read {name}: {exc.strerror or exc}', file=sys.stderr)
            status = 1
            continue
        for number, raw in found:
            where = {'file': name} if number is None else {'file': name, 'mbox_message': number}
            result = {**where, **read_email(raw).to_json()}
            if args.jsonl:
                sys.stdout.write(safe_json(result) + '\n')
                sys.stdout.flush()
            else:
                results.append(result)
    if not args.jsonl and results:
        shown: Any = results[0] if len(results) == 1 and len(args.files) == 1 else results
        sys.stdout.write(safe_json(shown, indent=2) + '\n')
    return status
