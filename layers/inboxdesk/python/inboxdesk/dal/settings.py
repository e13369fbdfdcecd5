"""Settings items: the outgoing filter's manual addresses and the appearance of outgoing mail.

Keys (single table): pk `SETTINGS`, sk `OUTGOING_FILTER` | `APPEARANCE`; the value is a JSON
document in `data` with an optimistic `version`. Both are small: one GetItem reads each.
Read by the API and by the outbound sender (`is_suppressed` in `logic.settings_api` combines
these manual addresses with the automatic ones).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from inboxdesk import resources as r
from inboxdesk.errors import PreconditionFailedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SETTINGS_PK: Final = 'SETTINGS'
OUTGOING_FILTER_SK: Final = 'OUTGOING_FILTER'
APPEARANCE_SK: Final = 'APPEARANCE'


@cache
def _dynamodb() -> DynamoDBClient:
    import boto3  # lazily: cold start

    return boto3.client('dynamodb')


def _table() -> str:
    return os.environ.get(r.ENV_TABLE) or r.LOCAL_NAMES[r.ENV_TABLE]


def read_setting(sk: str) -> tuple[dict[str, Any] | None, int]:
    """The stored document and its version (0 when never written)."""
    item = (
        _dynamodb()
        .get_item(TableName=_table(), Key={'pk': {'S': SETTINGS_PK}, 'sk': {'S': sk}}, ConsistentRead=True)
        .get('Item')
    )
    if not item:
        return None, 0
    return json.loads(item['data']['S']), int(item['version']['N'])


def write_setting(sk: str, data: dict[str, Any], *, expected_version: int, updated_by: str) -> int:
    """Store `data` if the stored version is still `expected_version`; returns the new version."""
    from botocore.exceptions import ClientError

    new_version = expected_version + 1
    condition = 'attribute_not_exists(pk)' if expected_version == 0 else 'version = :v'
    extra: dict[str, Any] = (
        {} if expected_version == 0 else {'ExpressionAttributeValues': {':v': {'N': str(expected_version)}}}
    )
    try:
        _dynamodb().put_item(
            TableName=_table(),
            Item={
                'pk': {'S': SETTINGS_PK},
                'sk': {'S': sk},
                'data': {'S': json.dumps(data, separators=(',', ':'))},
                'version': {'N': str(new_version)},
                'updated_at': {'S': datetime.now(UTC).isoformat()},
                'updated_by': {'S': updated_by},
            },
            ConditionExpression=condition,
            **extra,
        )
    except ClientError as exc:
        if exc.response.get('Error', {}).get('Code') == 'ConditionalCheckFailedException':
            raise PreconditionFailedError(f'setting {sk.lower()} was changed by someone else') from exc
        raise
    return new_version


def get_manual_filter() -> tuple[list[str], int]:
    data, version = read_setting(OUTGOING_FILTER_SK)
    return list((data or {}).get('addresses', [])), version


def put_manual_filter(addresses: list[str], *, expected_version: int, updated_by: str) -> int:
    return write_setting(
        OUTGOING_FILTER_SK, {'addresses': addresses}, expected_version=expected_version, updated_by=updated_by
    )


def get_appearance() -> tuple[dict[str, Any] | None, int]:
    return read_setting(APPEARANCE_SK)


def put_appearance(data: dict[str, Any], *, expected_version: int, updated_by: str) -> int:
    return write_setting(APPEARANCE_SK, data, expected_version=expected_version, updated_by=updated_by)
