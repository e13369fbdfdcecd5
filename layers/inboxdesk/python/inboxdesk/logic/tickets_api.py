"""The API's business rules for tickets, conversations, replies, notes and attachments.

Replies are never lost: the reply is stored as an outbound message with delivery status `queued`
and, in the same transaction-free sequence, an outbox marker (`dal.api_extras`) is written *before*
the message and deleted only once the job is on the outbound SQS queue. When SQS refuses the job,
the marker stays; `requeue_pending_replies` (run at the start of every reply request and by the
scheduled `api.handler.requeue_handler`) sends the job again. Duplicate jobs are harmless: the
sender is idempotent on the message id.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final

from inboxdesk.dal import attachments as attachment_store
from inboxdesk.errors import InboxdeskError

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


class InvalidRequestError(InboxdeskError):
    """The request is well-formed but breaks a rule (422), e.g. an attachment that was never uploaded."""


class PreconditionRequiredError(InboxdeskError):
    """A change that needs If-Match came without it (428)."""


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
    key = attachment_store.upload_key(upload_id)
    attachment_store.create_upload(
        attachment_store.StoredUpload(
            id=upload_id,
            filename=safe_filename(filename),
            content_type=base_type,
            size=size,
            s3_key=key,
            uploaded_by=uploaded_by,
            created_at=attachment_store.utcnow_iso(),
        )
    )
    url = attachment_store.presign_upload(key, base_type, size, UPLOAD_URL_SECONDS)
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
    from urllib.parse import quote

    return f'{kind}; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}'


def download_url(s3_key: str, filename: str, content_type: str) -> str:
    base_type = content_type.split(';', 1)[0].strip().lower()
    served_type = base_type if base_type in INLINE_TYPES else 'application/octet-stream'
    return attachment_store.presign_download(
        s3_key,
        disposition=content_disposition(filename, base_type),
        content_type=served_type,
        expires_in=DOWNLOAD_URL_SECONDS,
    )


def upload_download_url(upload_id: str) -> str:
    upload = attachment_store.get_upload(upload_id)
    if attachment_store.stored_size(upload.s3_key) is None:
        raise InvalidRequestError(f'attachment {upload_id} was never uploaded; PUT it to its upload URL first')
    return download_url(upload.s3_key, upload.filename, upload.content_type)


def uploaded_attachments(upload_ids: list[str]) -> list[attachment_store.StoredUpload]:
    """The uploads a reply names, each checked: it exists and its bytes are there, of the declared size."""
    found = []
    for upload_id in dict.fromkeys(upload_ids):
        try:
            upload = attachment_store.get_upload(upload_id)
        except InboxdeskError as exc:
            raise InvalidRequestError(
                f'attachment {upload_id} does not exist; create it with POST /attachments'
            ) from exc
        size = attachment_store.stored_size(upload.s3_key)
        if size is None:
            raise InvalidRequestError(f'attachment {upload_id} was never uploaded; PUT it to its upload URL first')
        if size != upload.size or size > MAX_ATTACHMENT_BYTES:
            raise InvalidRequestError(f'attachment {upload_id} is {size} bytes, not the {upload.size} declared')
        found.append(upload)
    return found
