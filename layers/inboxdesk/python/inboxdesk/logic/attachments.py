"""Attachments: agents' uploads for replies (presigned PUT, checked before use), and downloads of any stored
attachment through short-lived links that never let a browser render what a mail carried."""

from __future__ import annotations

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
from inboxdesk.ids import strip_controls
from inboxdesk.models import StoredAttachment

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
UPLOAD_URL_SECONDS: Final = 15 * 60
DOWNLOAD_URL_SECONDS: Final = 60
# What agents may attach. Raster images are the only types ever shown inline.
INLINE_TYPES: Final = frozenset({'image/png', 'image/jpeg', 'image/gif', 'image/webp'})
# How each inline type starts (webp: `RIFF`, a size, then `WEBP`).
_MAGIC: Final = {
    'image/png': (b'\x89PNG\r\n\x1a\n',),
    'image/jpeg': (b'\xff\xd8\xff',),
    'image/gif': (b'GIF87a', b'GIF89a'),
}
MAGIC_BYTES: Final = 12
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
    name = strip_controls(name).replace('"', '').strip(' .') or 'attachment'
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


def is_image_of_type(head: bytes, content_type: str) -> bool:
    """Whether the first bytes of a file are those of the raster image type it claims to be."""
    if content_type == 'image/webp':
        return head[:4] == b'RIFF' and head[8:12] == b'WEBP'
    return head.startswith(_MAGIC.get(content_type, ()))


def served_type(content_type: str, head: bytes) -> str:
    """The Content-Type a download is served with: a raster image as itself when its first bytes (`head`) are
    that image's, anything else as `application/octet-stream`, so no browser renders HTML, SVG or script from
    our bucket, nor sniffs a type from bytes that claim to be an image."""
    base_type = content_type.split(';', 1)[0].strip().lower()
    if base_type in INLINE_TYPES and is_image_of_type(head, base_type):
        return base_type
    return 'application/octet-stream'


def download_url(s3_key: str, filename: str, content_type: str) -> str:
    """A short-lived link; the object's first bytes are read only when it claims to be an image."""
    base_type = content_type.split(';', 1)[0].strip().lower()
    head = mail_store.first_bytes(s3_key, MAGIC_BYTES) if base_type in INLINE_TYPES else b''
    served = served_type(base_type, head)
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
