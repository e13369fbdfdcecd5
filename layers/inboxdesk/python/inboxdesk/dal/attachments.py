"""Attachments agents upload for replies: the upload item, and its bytes in the mail bucket.

The upload item (`UPLOAD#<id>`, see `dal.table`) holds filename, content type, declared size, S3 key
and uploader. The client PUTs the bytes with a presigned URL that signs the exact Content-Type and
Content-Length (`dal.mail_store.presign_put`); `stored_size` checks what arrived before a reply may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from inboxdesk.dal import keys, mail_store
from inboxdesk.dal.table import UploadItem
from inboxdesk.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class StoredUpload:
    id: str
    filename: str
    content_type: str
    size: int
    s3_key: str
    uploaded_by: str
    created_at: str


def create_upload(upload: StoredUpload) -> None:
    """Store the upload item (ids are random: the condition only guards against a reused id)."""
    item = UploadItem(
        keys.upload_pk(upload.id),
        keys.UPLOAD_SK,
        upload_id=upload.id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        s3_key=upload.s3_key,
        uploaded_by=upload.uploaded_by,
        created_at=upload.created_at,
    )
    item.save(condition=UploadItem.pk.does_not_exist())


def get_upload(upload_id: str) -> StoredUpload:
    """NotFoundError when there is no such upload (one GetItem)."""
    try:
        item = UploadItem.get(keys.upload_pk(upload_id), keys.UPLOAD_SK)
    except DoesNotExist as exc:
        raise NotFoundError(f'attachment {upload_id} does not exist') from exc
    return StoredUpload(
        id=item.upload_id,
        filename=item.filename,
        content_type=item.content_type,
        size=int(item.size),
        s3_key=item.s3_key,
        uploaded_by=item.uploaded_by,
        created_at=item.created_at,
    )


def stored_size(upload: StoredUpload) -> int | None:
    """The size of the bytes uploaded, or None when nothing arrived yet."""
    return mail_store.object_size(upload.s3_key)
