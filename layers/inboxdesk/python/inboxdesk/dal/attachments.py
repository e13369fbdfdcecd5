"""Attachments agents upload for replies, and short-lived links to any stored attachment.

Keys: pk `UPLOAD#<id>`, sk `UPLOAD` (filename, content type, declared size, S3 key, uploader).
Bytes live in the mail bucket under `attachments/uploads/<id>/`; the client PUTs them with a
presigned URL that signs the exact Content-Type and Content-Length, and `confirm_upload` checks
the stored object (HeadObject) before a reply may use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Final

from inboxdesk import resources as r
from inboxdesk.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

UPLOAD_PREFIX: Final = f'{r.ATTACHMENT_PREFIX}uploads/'


@dataclass(frozen=True, slots=True)
class StoredUpload:
    id: str
    filename: str
    content_type: str
    size: int
    s3_key: str
    uploaded_by: str
    created_at: str


@cache
def _dynamodb() -> DynamoDBClient:
    import boto3

    return boto3.client('dynamodb')


@cache
def _s3() -> S3Client:
    import boto3
    from botocore.config import Config

    return boto3.client('s3', config=Config(signature_version='s3v4'))


def _table() -> str:
    return os.environ.get(r.ENV_TABLE) or r.LOCAL_NAMES[r.ENV_TABLE]


def bucket() -> str:
    return os.environ.get(r.ENV_MAIL_BUCKET) or r.LOCAL_NAMES[r.ENV_MAIL_BUCKET]


def upload_key(upload_id: str) -> str:
    return f'{UPLOAD_PREFIX}{upload_id}/content'


def create_upload(upload: StoredUpload) -> None:
    _dynamodb().put_item(
        TableName=_table(),
        Item={
            'pk': {'S': f'UPLOAD#{upload.id}'},
            'sk': {'S': 'UPLOAD'},
            'filename': {'S': upload.filename},
            'content_type': {'S': upload.content_type},
            'size': {'N': str(upload.size)},
            's3_key': {'S': upload.s3_key},
            'uploaded_by': {'S': upload.uploaded_by},
            'created_at': {'S': upload.created_at},
        },
        ConditionExpression='attribute_not_exists(pk)',
    )


def get_upload(upload_id: str) -> StoredUpload:
    item = _dynamodb().get_item(TableName=_table(), Key={'pk': {'S': f'UPLOAD#{upload_id}'}, 'sk': {'S': 'UPLOAD'}})
    found = item.get('Item')
    if not found:
        raise NotFoundError(f'attachment {upload_id} does not exist')
    return StoredUpload(
        id=upload_id,
        filename=found['filename']['S'],
        content_type=found['content_type']['S'],
        size=int(found['size']['N']),
        s3_key=found['s3_key']['S'],
        uploaded_by=found['uploaded_by']['S'],
        created_at=found['created_at']['S'],
    )


def stored_size(s3_key: str) -> int | None:
    """The size of the uploaded object, or None when nothing was uploaded yet."""
    from botocore.exceptions import ClientError

    try:
        return int(_s3().head_object(Bucket=bucket(), Key=s3_key)['ContentLength'])
    except ClientError as exc:
        if exc.response.get('Error', {}).get('Code') in ('404', 'NoSuchKey', 'NotFound'):
            return None
        raise


def presign_upload(s3_key: str, content_type: str, size: int, expires_in: int) -> str:
    return _s3().generate_presigned_url(
        'put_object',
        Params={'Bucket': bucket(), 'Key': s3_key, 'ContentType': content_type, 'ContentLength': size},
        ExpiresIn=expires_in,
    )


def presign_download(s3_key: str, *, disposition: str, content_type: str, expires_in: int) -> str:
    return _s3().generate_presigned_url(
        'get_object',
        Params={
            'Bucket': bucket(),
            'Key': s3_key,
            'ResponseContentDisposition': disposition,
            'ResponseContentType': content_type,
            'ResponseCacheControl': 'private, no-store',
        },
        ExpiresIn=expires_in,
    )


def utcnow_iso() -> str:
    return datetime.now(UTC).isoformat()
