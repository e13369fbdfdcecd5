"""Attachments: agents' uploads for replies (presigned PUT, checked before use), and downloads of any stored
attachment through short-lived links that never let a browser render what a mail carried."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from inboxdesk import ids
from inboxdesk.dal import attachments as attachment_store
from inboxdesk.dal import mail_store
from inboxdesk.dal import tickets as ticket_store
from inboxdesk.dal.attachments import StoredUpload
from inboxdesk.errors import InvalidRequestError, NotFoundError
from inboxdesk.models import StoredAttachment

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
UPLOAD_URL_SECONDS: Final = 15 * 60
DOWNLOAD_URL_SECONDS: Final = 60
# What agents may attach. Raster images are the only types ever shown inline.
INLINE_TYPES: Final = frozenset({'image/png', 'image/jpeg', 'image/gif', 'image/webp'})
ALLOWED_UPLOAD_TYPES: Final = INLINE_TYPES | {
    'application/pdf',
    'text/plain',
    'text/csv',
    'application/zip',
    'application/msword',
    'application/vnd.ms-excel',
    'application/vnd.ms-powerpoint',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.oasis.opendocument.text',
    'application/vnd.oasis.opendocument.spreadsheet',
    'message/rfc822',
}


@dataclass(frozen=True, slots=True)
class UploadGrant:
    id: str
    upload_url: str
    headers: dict[str, str]
    expires_in: int


def safe_filename(filename: str) -> str:
    """A filename safe to put in a header: no path, no quotes or control characters, at most 150 chars."""
    name = filename.replace('\\', '/').rsplit('/', 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f"]+', '', name).strip(' .') or 'attachment'
    return name[:150]


def grant_upload(filename: str, content_type: str, size: int, uploaded_by: str) -> UploadGrant:
    base_type = content_type.split(';', 1)[0].strip().lower()
    if base_type not in ALLOWED_UPLOAD_TYPES:
        raise InvalidRequestError(
            f'content type {base_type!r} may not be attached; allowed: {", ".join(sorted(ALLOWED_UPLOAD_TYPES))}'
        )
    if size > MAX_ATTACHMENT_BYTES:
        raise InvalidRequestError(f'attachments may be at most {MAX_ATTACHMENT_BYTES} bytes; this one is {size}')
    upload_id = uuid.uuid4().hex
    key = mail_store.upload_key(upload_id)
    attachment_store.create_upload(
        attachment_store.StoredUpload(
            id=upload_id,
            filename=safe_filename(filename),
            content_type=base_type,
            size=size,
            s3_key=key,
            uploaded_by=uploaded_by,
            created_at=ids.now_iso(),
        )
    )
    url = mail_store.presign_put(key, content_type=base_type, size=size, expires_in=UPLOAD_URL_SECONDS)
    return UploadGrant(
        id=upload_id,
        upload_url=url,
        headers={'Content-Type': base_type, 'Content-Length': str(size)},
        expires_in=UPLOAD_URL_SECONDS,
    )


def content_disposition(filename: str, content_type: str) -> str:
    """`inline` only for raster images; everything else (SVG, HTML, PDF...) downloads."""
    kind = 'inline' if content_type.lower() in INLINE_TYPES else 'attachment'
    name = safe_filename(filename)
    ascii_name = name.encode('ascii', 'replace').decode('ascii').replace('?', '_')
    return f'{kind}; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}'


def served_type(content_type: str) -> str:
    """The Content-Type a download is served with: raster images as themselves, anything else as
    `application/octet-stream`, so no browser renders HTML, SVG or script from our bucket."""
    base_type = content_type.split(';', 1)[0].strip().lower()
    return base_type if base_type in INLINE_TYPES else 'application/octet-stream'


def download_url(s3_key: str, filename: str, content_type: str) -> str:
    served = served_type(content_type)
    return mail_store.presign_get(
        s3_key,
        disposition=content_disposition(filename, served),
        content_type=served,
        expires_in=DOWNLOAD_URL_SECONDS,
    )


def upload_download_url(upload_id: str) -> str:
    upload = attachment_store.get_upload(upload_id)
    if attachment_store.stored_size(upload) is None:
        raise InvalidRequestError(f'attachment {upload_id} was never uploaded; PUT it to its upload URL first')
    return download_url(upload.s3_key, upload.filename, upload.content_type)


def message_attachment_url(ticket_id: str, message_id: str, attachment_id: str) -> str:
    """A download link of an attachment of a stored message (inbound mail or a reply), same rules as uploads.

    NotFoundError when the message has no such attachment, or it was withheld (virus verdict)."""
    message = ticket_store.get_message(ticket_id, message_id)
    found = next((a for a in message.attachments if a.id == attachment_id), None)
    if found is None or found.s3_key is None:
        raise NotFoundError(f'attachment {attachment_id} is not in message {message_id} of ticket {ticket_id}')
    return download_url(found.s3_key, found.filename, found.content_type)


def uploaded_attachments(upload_ids: list[str]) -> list[StoredUpload]:
    """The uploads a reply names, each checked: it exists and its bytes are there, of the declared size."""
    found = []
    for upload_id in dict.fromkeys(upload_ids):
        try:
            upload = attachment_store.get_upload(upload_id)
        except NotFoundError as exc:
            raise InvalidRequestError(
                f'attachment {upload_id} does not exist; create it with POST /attachments'
            ) from exc
        size = attachment_store.stored_size(upload)
        if size is None:
            raise InvalidRequestError(f'attachment {upload_id} was never uploaded; PUT it to its upload URL first')
        if size != upload.size or size > MAX_ATTACHMENT_BYTES:
            raise InvalidRequestError(f'attachment {upload_id} is {size} bytes, not the {upload.size} declared')
        found.append(upload)
    return found


def as_stored(uploads: list[StoredUpload]) -> tuple[StoredAttachment, ...]:
    """Uploads as the attachments of the message that sends them."""
    return tuple(
        StoredAttachment(
            id=u.id,
            filename=u.filename,
            content_type=u.content_type,
            size=u.size,
            content_id=None,
            inline=False,
            s3_key=u.s3_key,
        )
        for u in uploads
    )
