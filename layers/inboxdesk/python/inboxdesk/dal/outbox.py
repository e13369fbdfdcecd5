"""The outbox: queued outbound messages whose job is not yet on the outbound queue, and that queue.

`dal.tickets` writes an outbox entry (`OUTBOX` / `<created>#<t>#<message id>`, see `dal.table`) in the
same transaction as every queued outbound message, so a reply never exists without one. Once SQS
accepted the job, `remove` deletes it (and `dal.tickets.mark_delivery` does too, when the sender
reports). `pending` lists the entries left behind, oldest first, in one Query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inboxdesk.dal import keys
from inboxdesk.dal.table import OutboxItem

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from inboxdesk.models import Message, ReplyJob

_sqs_client: SQSClient | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    ticket_id: str
    message_id: str  # our id of the message
    rfc_id: str
    created_at: str


def outbox_item(message: Message) -> OutboxItem:
    """The entry of a queued outbound message, for the transaction that writes the message."""
    return OutboxItem(
        keys.OUTBOX_PK,
        keys.outbox_sk(message.created_at, message.ticket_id, message.id),
        ticket_id=message.ticket_id,
        message_id=message.id,
        rfc_id=message.rfc_id or '',
        created_at=message.created_at,
    )


def _item(entry: OutboxEntry) -> OutboxItem:
    return OutboxItem(keys.OUTBOX_PK, keys.outbox_sk(entry.created_at, entry.ticket_id, entry.message_id))


def pending(created_before: str, limit: int) -> list[OutboxEntry]:
    """Entries of messages created before `created_before` (ISO, as `ids.iso_time`), oldest first."""
    return [
        OutboxEntry(item.ticket_id, item.message_id, item.rfc_id, item.created_at)
        for item in OutboxItem.query(keys.OUTBOX_PK, OutboxItem.sk < created_before, limit=limit, page_size=limit)
    ]


def remove(entry: OutboxEntry) -> None:
    """Delete the entry (its job is on the queue, or there is nothing left to send)."""
    _item(entry).delete()


def entry_of(message: Message) -> OutboxEntry:
    return OutboxEntry(message.ticket_id, message.id, message.rfc_id or '', message.created_at)


def _sqs() -> SQSClient:
    global _sqs_client
    if _sqs_client is None:
        import boto3

        _sqs_client = boto3.client('sqs')
    return _sqs_client


def send_job(job: ReplyJob, queue_url: str) -> None:
    """Put a job on the outbound queue; botocore errors propagate."""
    _sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(job.to_json(), separators=(',', ':')))
