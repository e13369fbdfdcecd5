"""The mail bucket (S3): raw mail in, attachments and large bodies out, short-lived links to attachments.

The S3 client is created lazily, once, signing with SigV4 (presigned links carry `X-Amz-*` parameters)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from inboxdesk import resources
from inboxdesk.config import storage_settings
from inboxdesk.errors import StoredMailUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_client: S3Client | None = None
_SAFE = re.compile(r'[^A-Za-z0-9._-]+')


def _s3() -> S3Client:
    global _client
    if _client is None:
        import boto3
        from botocore.config import Config

        _client = boto3.client('s3', config=Config(signature_version='s3v4'))
    return _client


def get_raw_mail(bucket: str, key: str) -> bytes:
    """The raw MIME SES (or a poller) stored; StoredMailUnavailableError when it cannot be fetched."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _s3().get_object(Bucket=bucket, Key=key)['Body'].read()
    except (ClientError, BotoCoreError) as exc:
        raise StoredMailUnavailableError(f's3://{bucket}/{key}: {type(exc).__name__}') from exc


def safe_filename(filename: str) -> str:
    """A filename usable in an S3 key: ASCII letters, digits, dot, dash, underscore; at most 100 characters."""
    cleaned = _SAFE.sub('_', filename).strip('._') or 'attachment'
    return cleaned[-100:]


def attachment_key(ticket_id: str, message_id: str, index: int, filename: str) -> str:
    return f'{resources.ATTACHMENT_PREFIX}{ticket_id}/{message_id}/{index}-{safe_filename(filename)}'


def upload_key(upload_id: str) -> str:
    """Where the bytes of an agent's upload (a reply attachment) go."""
    return f'{resources.ATTACHMENT_PREFIX}uploads/{upload_id}/content'


def body_key(ticket_id: str, message_id: str) -> str:
    return f'{resources.BODY_PREFIX}{ticket_id}/{message_id}.json'


def attachment_manifest_key(ticket_id: str, message_id: str) -> str:
    """The list of a message's attachments when there are more than its item keeps."""
    return f'{resources.ATTACHMENT_PREFIX}{ticket_id}/{message_id}/manifest.json'


def put_json(key: str, data: Any) -> None:
    put_object(key, json.dumps(data, separators=(',', ':')).encode('utf-8'), 'application/json')


def get_json(key: str) -> Any:
    return json.loads(_s3().get_object(Bucket=storage_settings().mail_bucket, Key=key)['Body'].read())


def put_object(key: str, data: bytes, content_type: str) -> None:
    """Write one object into the mail bucket (server-side encryption comes from the bucket's default)."""
    _s3().put_object(Bucket=storage_settings().mail_bucket, Key=key, Body=data, ContentType=content_type)


def put_body(key: str, *, text: str, html: str) -> None:
    put_json(key, {'text': text, 'html': html})


def get_body(key: str) -> tuple[str, str]:
    """(text, html) of a body stored in S3."""
    data: dict[str, Any] = get_json(key)
    return str(data.get('text', '')), str(data.get('html', ''))


def delete_objects(keys: list[str]) -> None:
    """Remove objects written for a message that was not stored (a duplicate, a failed write)."""
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        if chunk:
            _s3().delete_objects(
                Bucket=storage_settings().mail_bucket, Delete={'Objects': [{'Key': k} for k in chunk], 'Quiet': True}
            )


@contextlib.contextmanager
def removing_on_failure(written: list[str]) -> Iterator[None]:
    """The objects in `written` (as it is when the block fails) are removed again when the block raises: what
    was written for a message that was never stored leaves nothing behind, and a retry starts clean."""
    try:
        yield
    except BaseException:
        if written:
            delete_objects(written)
        raise


def first_bytes(key: str, count: int) -> bytes:
    """The first `count` bytes of an object in the mail bucket (one ranged GetObject); empty for an empty or
    missing object."""
    from botocore.exceptions import ClientError

    try:
        response = _s3().get_object(Bucket=storage_settings().mail_bucket, Key=key, Range=f'bytes=0-{count - 1}')
    except ClientError as exc:
        if exc.response.get('Error', {}).get('Code') in ('InvalidRange', 'NoSuchKey', '404'):
            return b''
        raise
    return response['Body'].read()


def object_size(key: str) -> int | None:
    """The size of an object in the mail bucket, or None when there is none (one HeadObject)."""
    from botocore.exceptions import ClientError

    try:
        return int(_s3().head_object(Bucket=storage_settings().mail_bucket, Key=key)['ContentLength'])
    except ClientError as exc:
        if exc.response.get('Error', {}).get('Code') in ('404', 'NoSuchKey', 'NotFound'):
            return None
        raise


def presign_put(key: str, *, content_type: str, size: int, expires_in: int) -> str:
    """A URL to PUT exactly `size` bytes of `content_type` to `key` (both are signed)."""
    return _s3().generate_presigned_url(
        'put_object',
        Params={
            'Bucket': storage_settings().mail_bucket,
            'Key': key,
            'ContentType': content_type,
            'ContentLength': size,
        },
        ExpiresIn=expires_in,
    )


def presign_get(key: str, *, disposition: str, content_type: str, expires_in: int) -> str:
    """A URL to GET `key`, served with this Content-Disposition and Content-Type whatever was stored."""
    return _s3().generate_presigned_url(
        'get_object',
        Params={
            'Bucket': storage_settings().mail_bucket,
            'Key': key,
            'ResponseContentDisposition': disposition,
            'ResponseContentType': content_type,
            'ResponseCacheControl': 'private, no-store',
        },
        ExpiresIn=expires_in,
    )


def open_object(key: str) -> BinaryIO:
    """A stream of an object in the mail bucket (read in chunks by its reader, never loaded whole here)."""
    return cast(BinaryIO, _s3().get_object(Bucket=storage_settings().mail_bucket, Key=key)['Body'])
