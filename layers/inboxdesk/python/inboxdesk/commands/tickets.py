"""`inboxdesk tickets`: the tickets of a running dev system, newest first (`--json` for scripts)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

COLUMNS = ('number', 'title', 'status', 'queue', 'customer_email', 'message_count')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument('--host', default=env('INBOXDESK_DEV_HOST', '127.0.0.1'), help='where `inboxdesk dev` runs')
    parser.add_argument(
        '--aws-port', type=int, default=int(env('INBOXDESK_DEV_AWS_PORT', '5000')), help="the dev system's moto port"
    )
    parser.add_argument('--json', action='store_true', help='print a JSON list of objects')


def _field(ticket: Any, name: str) -> Any:
    if isinstance(ticket, Mapping):
        return ticket.get(name)
    return getattr(ticket, name, None)


def ticket_row(ticket: Any, queue_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One ticket as the JSON object this command prints (`queue_names`: queue id -> name)."""
    queue = _field(ticket, 'queue')
    if queue is not None and not isinstance(queue, str):
        queue = _field(queue, 'name')
    if queue is None and (queue_id := _field(ticket, 'queue_id')) is not None:
        queue = (queue_names or {}).get(queue_id, queue_id)
    customer = _field(ticket, 'customer')
    email = _field(ticket, 'customer_email') or (_field(customer, 'email') if customer is not None else None)
    status = _field(ticket, 'status')
    return {
        'number': _field(ticket, 'number'),
        'title': _field(ticket, 'title'),
        'status': getattr(status, 'value', status),
        'queue': queue,
        'customer_email': email,
        'message_count': _field(ticket, 'message_count'),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    headers = {
        'number': '#',
        'title': 'TITLE',
        'status': 'STATUS',
        'queue': 'QUEUE',
        'customer_email': 'CUSTOMER',
        'message_count': 'MESSAGES',
    }
    cells = [[headers[c] for c in COLUMNS]]
    for row in rows:
        title = str(row['title'] or '')
        title = title if len(title) <= 50 else title[:49] + '…'
        cells.append(
            ['' if row[c] is None else str(row[c]) for c in COLUMNS[:1]]
            + [title]
            + ['' if row[c] is None else str(row[c]) for c in COLUMNS[2:]]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return '\n'.join(
        '  '.join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def run(args: argparse.Namespace) -> int:
    from inboxdesk.local.embedded_aws import moto_is_running
    from inboxdesk.local.provision import local_environment

    endpoint = f'http://{args.host}:{args.aws_port}'
    if not moto_is_running(endpoint):
        print(f'inboxdesk tickets: no dev system is running at {endpoint}; start one with `make dev`.', file=sys.stderr)
        return 1
    os.environ.update(local_environment(endpoint))  # before the DAL is imported: it reads the table name
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from inboxdesk.dal import queues as queue_store
    from inboxdesk.dal import tickets as ticket_store
    from inboxdesk.errors import InboxdeskError

    try:
        tickets, cursor = ticket_store.list_tickets(limit=100)
        while cursor:
            page, cursor = ticket_store.list_tickets(limit=100, cursor=cursor)
            tickets += page
        queue_names = {queue.id: queue.name for queue in queue_store.list_queues()}
    except (InboxdeskError, PynamoDBException, ClientError, BotoCoreError) as error:
        print(
            f'inboxdesk tickets: the AWS at {endpoint} is no Inboxdesk dev system ({type(error).__name__}).',
            file=sys.stderr,
        )
        return 1
    rows = sorted((ticket_row(t, queue_names) for t in tickets), key=lambda row: row['number'] or 0, reverse=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif rows:
        print(format_table(rows))
    else:
        print('no tickets yet')
    return 0
