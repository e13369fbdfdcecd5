"""`inboxdesk outbox [--smtp]`: the mail a running dev system sent, oldest first (`--json` for scripts).

Through SES: what moto's SES accepted (`/moto-api/data.json`), with the Message-ID SES gives the mail
(`<id@REGION.amazonses.com>`, which recipients see and answer to). With `--smtp`: what the dev runtime's
SMTP catcher received (its index in the data folder), with the Message-ID the sender wrote."""

from __future__ import annotations

import argparse
import os
import sys
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from inboxdesk_cli.commands import add_dev_system_arguments
from inboxdesk_cli.terminal import safe_json, visible

HEADERS = {'recipients': 'TO', 'subject': 'SUBJECT', 'message_id': 'MESSAGE-ID'}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dev_system_arguments(parser)
    parser.add_argument('--smtp', action='store_true', help="what the SMTP catcher received, instead of SES's mail")
    parser.add_argument(
        '--data-dir', type=Path, default=None, help="the dev runtime's data folder (default: the running one's)"
    )


def ses_rows(endpoint: str, region: str) -> list[dict[str, Any]]:
    from inboxdesk.integrations.ses import ses_message_ids
    from inboxdesk_cli.local.ses_events import recipients_of, ses_outbox

    rows = []
    for mail in ses_outbox(endpoint):
        raw = mail.get('raw_data') or ''
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw.encode() if isinstance(raw, str) else raw)
        rows.append(
            {
                'recipients': recipients_of(mail),
                'subject': str(headers.get('Subject', '')),
                'message_id': ses_message_ids(str(mail['id']), region)[0],
            }
        )
    return rows


def smtp_rows(data_dir: Path) -> list[dict[str, Any]]:
    from inboxdesk_cli.local.smtp_catcher import caught

    return [{k: line.get(k) for k in HEADERS} for line in caught(data_dir)]


def format_table(rows: list[dict[str, Any]]) -> str:
    def cell(column: str, value: Any) -> str:
        return visible(', '.join(value) if isinstance(value, list) else str(value or ''))

    lines = [list(HEADERS.values()), *([cell(c, row[c]) for c in HEADERS] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    return '\n'.join('  '.join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    from inboxdesk_cli.data_dir import default_data_dir, running_data_dir
    from inboxdesk_cli.local.embedded_aws import moto_is_running

    if args.smtp:
        data_dir = args.data_dir or running_data_dir() or default_data_dir()
        rows = smtp_rows(data_dir)
        empty = f'the SMTP catcher has received nothing yet (data folder {data_dir})'
    else:
        endpoint = f'http://{args.host}:{args.aws_port}'
        if not moto_is_running(endpoint):
            sys.stderr.write(f'inboxdesk outbox: no dev system is running at {endpoint}; start it with `make dev`.\n')
            return 1
        rows = ses_rows(endpoint, os.environ.get('AWS_DEFAULT_REGION', 'eu-west-1'))
        empty = 'nothing sent through SES yet'
    if args.json:
        print(safe_json(rows, indent=2))
    else:
        print(format_table(rows) if rows else empty)
    return 0
