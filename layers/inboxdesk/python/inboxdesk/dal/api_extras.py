"""What the API needs beyond `dal.tickets`: the outbox of replies whose job is not yet on the queue.

Keys: pk `OUTBOX`, sk `<created ISO>#<ticket id>#<rfc message id>`; one small item per reply in
flight, deleted once its job is on the outbound SQS queue. `list_outbox` is one Query (oldest first).
(To merge into `dal.keys`/`dal.table` later: kept here so as not to edit the ingestion modules.)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from inboxdesk import resources as r

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

OUTBOX_PK: Final = 'OUTBOX'


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    sk: str
    ticket_id: str
    rfc_message_id: str
    created_at: str


@cache
def _dynamodb() -> DynamoDBClient:
    import boto3

    return boto3.client('dynamodb')


@cache
def _sqs() -> SQSClient:
    import boto3

    return boto3.client('sqs')


def _table() -> str:
    return os.environ.get(r.ENV_TABLE) or r.LOCAL_NAMES[r.ENV_TABLE]


def outbox_sk(created_at: str, ticket_id: str, rfc_message_id: str) -> str:
    return f'{created_at}#{ticket_id}#{rfc_message_id}'


def put_outbox(entry: OutboxEntry) -> None:
    _dynamodb().put_item(
        TableName=_table(),
        Item={
            'pk': {'S': OUTBOX_PK},
            'sk': {'S': entry.sk},
            'ticket_id': {'S': entry.ticket_id},
            'rfc_message_id': {'S': entry.rfc_message_id},
            'created_at': {'S': entry.created_at},
        },
    )


def delete_outbox(sk: str) -> None:
    _dynamodb().delete_item(TableName=_table(), Key={'pk': {'S': OUTBOX_PK}, 'sk': {'S': sk}})


def list_outbox(created_before: str, limit: int) -> list[OutboxEntry]:
    """Entries created before `created_before` (ISO), oldest first."""
    answer = _dynamodb().query(
        TableName=_table(),
        KeyConditionExpression='pk = :pk AND sk < :before',
        ExpressionAttributeValues={':pk': {'S': OUTBOX_PK}, ':before': {'S': created_before}},
        Limit=limit,
    )
    return [
        OutboxEntry(
            sk=item['sk']['S'],
            ticket_id=item['ticket_id']['S'],
            rfc_message_id=item['rfc_message_id']['S'],
            created_at=item['created_at']['S'],
        )
        for item in answer.get('Items', [])
    ]


def send_job(job: dict[str, str]) -> None:
    """Put a job on the outbound queue (`OUTBOUND_QUEUE_URL`); botocore errors propagate."""
    from inboxdesk.errors import ConfigurationError

    url = os.environ.get(r.ENV_OUTBOUND_QUEUE_URL)
    if not url:
        raise ConfigurationError(f'{r.ENV_OUTBOUND_QUEUE_URL} is not set')
    _sqs().send_message(QueueUrl=url, MessageBody=json.dumps(job, separators=(',', ':')))
