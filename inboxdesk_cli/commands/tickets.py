"""`inboxdesk tickets`: the tickets of a running dev system, newest first (`--json` for scripts)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from inboxdesk_cli.commands import add_dev_system_arguments
from inboxdesk_cli.terminal import safe_json, visible

if TYPE_CHECKING:
    from inboxdesk.models import Ticket

HEADERS = {  # column -> its heading, in order
    'number': '#',
    'title': 'TITLE',
    'status': 'STATUS',
    'queue': 'QUEUE',
    'customer_email': 'CUSTOMER',
    'message_count': 'MESSAGES',
}
COLUMNS = tuple(HEADERS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dev_system_arguments(parser)


def ticket_row(ticket: Ticket, queue_names: Mapping[str, str]) -> dict[str, Any]:
    """One ticket as the JSON object this command prints (`queue_names`: queue id -> name)."""
    return {
        'number': ticket.number,
        'title': ticket.title,
        'status': ticket.status,
        'queue': queue_names.get(ticket.queue_id, ticket.queue_id),
        'customer_email': ticket.customer.email,
        'message_count': ticket.message_count,
    }


def _cell(column: str, value: Any) -> str:
    """A table cell: control characters from mail shown as escapes, long titles cut."""
    text = visible('' if value is None else str(value))
    return text[:49] + '…' if column == 'title' and len(text) > 50 else text


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [[HEADERS[c] for c in COLUMNS], *([_cell(c, row[c]) for c in COLUMNS] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return '\n'.join(
        '  '.join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def run(args: argparse.Namespace) -> int:
    from inboxdesk_cli.local.embedded_aws import moto_is_running
    from inboxdesk_cli.local.provision import local_environment

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
    rows = sorted((ticket_row(t, queue_names) for t in tickets), key=lambda row: row['number'], reverse=True)
    if args.json:
        print(safe_json(rows, indent=2))
    elif rows:
        print(format_table(rows))
    else:
        print('no tickets yet')
    return 0
