"""The API's business rules for tickets, conversations, replies, notes and attachments.

Replies are never lost: the reply is stored as an outbound message with delivery status `queued`
together with its outbox entry, in one transaction (`dal.tickets`, `dal.outbox`); the entry is
deleted only once the job is on the outbound SQS queue. When SQS refuses the job, the entry stays;
`requeue_pending_replies` (run every minute by the scheduled `api.handler.requeue_handler`, not on
the agent's request path) sends the job again. Duplicate jobs are harmless: the sender is
idempotent on the message id.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from aws_lambda_powertools import Logger

from inboxdesk.errors import InboxdeskError, NotFoundError
from inboxdesk.models import Message, Participant, ReplyJob, StoredAttachment, Ticket
from inboxdesk.observability import SERVICE_API, service_name

if TYPE_CHECKING:  # the DAL (PynamoDB, botocore) is imported on first use: cold start
    from inboxdesk.dal.attachments import StoredUpload
    from inboxdesk.dal.outbox import OutboxEntry

logger = Logger(service=service_name(SERVICE_API), child=True)  # under the API function's logger

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
    from inboxdesk.dal import attachments as attachment_store
    from inboxdesk.dal import mail_store
    from inboxdesk.dal.ids import now_iso

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
            created_at=now_iso(),
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
    from urllib.parse import quote

    return f'{kind}; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}'


def served_type(content_type: str) -> str:
    """The Content-Type a download is served with: raster images as themselves, anything else as
    `application/octet-stream`, so no browser renders HTML, SVG or script from our bucket."""
    base_type = content_type.split(';', 1)[0].strip().lower()
    return base_type if base_type in INLINE_TYPES else 'application/octet-stream'


def download_url(s3_key: str, filename: str, content_type: str) -> str:
    from inboxdesk.dal import mail_store

    served = served_type(content_type)
    return mail_store.presign_get(
        s3_key,
        disposition=content_disposition(filename, served),
        content_type=served,
        expires_in=DOWNLOAD_URL_SECONDS,
    )


def upload_download_url(upload_id: str) -> str:
    from inboxdesk.dal import attachments as attachment_store

    upload = attachment_store.get_upload(upload_id)
    if attachment_store.stored_size(upload) is None:
        raise InvalidRequestError(f'attachment {upload_id} was never uploaded; PUT it to its upload URL first')
    return download_url(upload.s3_key, upload.filename, upload.content_type)


def message_attachment_url(ticket_id: str, message_id: str, attachment_id: str) -> str:
    """A download link of an attachment of a stored message (inbound mail or a reply), same rules as uploads.

    NotFoundError when the message has no such attachment, or it was withheld (virus verdict)."""
    from inboxdesk.dal import tickets as ticket_store

    message = ticket_store.get_message(ticket_id, message_id)
    found = next((a for a in message.attachments if a.id == attachment_id), None)
    if found is None or found.s3_key is None:
        raise NotFoundError(f'attachment {attachment_id} is not in message {message_id} of ticket {ticket_id}')
    return download_url(found.s3_key, found.filename, found.content_type)


def uploaded_attachments(upload_ids: list[str]) -> list[StoredUpload]:
    """The uploads a reply names, each checked: it exists and its bytes are there, of the declared size."""
    from inboxdesk.dal import attachments as attachment_store

    found = []
    for upload_id in dict.fromkeys(upload_ids):
        try:
            upload = attachment_store.get_upload(upload_id)
        except InboxdeskError as exc:
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


# --- tickets, messages, replies, notes ----------------------------------------------------------

REQUEUE_GRACE_SECONDS: Final = 60  # a reply younger than this may still be on its way to the queue
REQUEUE_BATCH: Final = 25


def _value_error(exc: ValueError) -> InvalidRequestError:
    return InvalidRequestError(str(exc))


def list_tickets(
    *,
    queue: str | None,
    status: str | None,
    assignee: str | None,
    customer: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Ticket], str | None]:
    from inboxdesk.dal import tickets as ticket_store

    try:
        return ticket_store.list_tickets(
            queue=queue, status=status, assignee=assignee, customer=customer, cursor=cursor, limit=limit
        )
    except ValueError as exc:
        raise _value_error(exc) from exc


def get_ticket(ticket_id: str) -> Ticket:
    """NotFoundError when there is no such ticket."""
    from inboxdesk.dal import tickets as ticket_store

    return ticket_store.get_ticket(ticket_id)


def get_ticket_by_number(number: int) -> Ticket:
    """NotFoundError when no ticket has this number."""
    from inboxdesk.dal import tickets as ticket_store

    return ticket_store.get_ticket_by_number(number)


def list_messages(ticket_id: str) -> list[Message]:
    """The conversation in order; NotFoundError for an unknown ticket (rather than an empty list)."""
    from inboxdesk.dal import tickets as ticket_store

    ticket_store.get_ticket(ticket_id)
    return ticket_store.list_messages(ticket_id)


def update_ticket(ticket_id: str, changes: dict[str, object], expected_version: int | None) -> Ticket:
    """The DAL checks the version and that a new queue exists (NotFoundError -> 404 names the queue)."""
    from inboxdesk.dal import tickets as ticket_store

    if expected_version is None:
        raise PreconditionRequiredError('send If-Match with the ETag (version) of the ticket you read')
    try:
        return ticket_store.update_ticket(ticket_id, changes, expected_version)
    except ValueError as exc:
        raise _value_error(exc) from exc


def sanitise_html(html: str) -> str:
    """Agent- or customer-written HTML made safe to show: nh3 (ammonia) allow-list, no scripts/handlers."""
    if not html:
        return ''
    import nh3

    return nh3.clean(html)


def _sender_for(queue_id: str) -> Participant:
    from inboxdesk.dal import queues as queue_store

    queue = queue_store.get_queue(queue_id)
    address = queue.reply_via if queue.reply_via and '@' in queue.reply_via else None
    address = address or next(iter(queue.inbound_addresses), None)
    if address is None:
        default = queue_store.get_default_queue()
        address = next(iter(default.inbound_addresses), None) if default else None
    if address is None:
        raise InvalidRequestError(f'queue {queue.name} has no address to send from: give it an inbound address')
    return Participant(name=queue.name, email=address)


def _check_recipients(addresses: list[str]) -> None:
    from inboxdesk.logic.queues import suppressed

    blocked = suppressed(addresses)
    if blocked:
        raise InvalidRequestError(f'Inboxdesk never sends to {", ".join(blocked)} (outgoing filter)')


def _stored(uploads: list[StoredUpload]) -> tuple[StoredAttachment, ...]:
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


def _enqueue(entry: OutboxEntry) -> bool:
    """True when the job is on the queue (and the outbox entry gone); False leaves it for the sweep."""
    from inboxdesk.dal import outbox

    try:
        outbox.send_job(ReplyJob(entry.ticket_id, entry.message_id, entry.rfc_message_id))
    except Exception as exc:  # noqa: BLE001 - any failure: the reply stays queued and is swept later
        logger.warning(
            'reply job not queued', ticket_id=entry.ticket_id, message_id=entry.message_id, error=type(exc).__name__
        )
        return False
    outbox.remove(entry)
    return True


def _new_rfc_id(ticket_id: str, sender: Participant) -> str:
    """The Message-ID of mail we send about a ticket, in the stored form (no angle brackets, as every
    pointer, message and ReplyJob holds it). It carries the ticket id, so ingestion reads the ticket of a
    customer's answer in the same BatchGetItem as the pointer."""
    from inboxdesk.dal.keys import normalise_message_id
    from inboxdesk.logic.threading import make_message_id

    return normalise_message_id(make_message_id(ticket_id, sender.email.rpartition('@')[2]))


def reply(ticket_id: str, *, author: str, text: str, html: str, cc: list[str], attachment_ids: list[str]) -> Message:
    """Store the reply as `queued`, then put its job on the outbound queue (see the module docstring)."""
    from inboxdesk.dal import outbox
    from inboxdesk.dal import tickets as ticket_store

    ticket = ticket_store.get_ticket(ticket_id)
    _check_recipients([ticket.customer.email, *cc])
    uploads = uploaded_attachments(attachment_ids)
    sender = _sender_for(ticket.queue_id)
    rfc_id = _new_rfc_id(ticket.id, sender)
    message = ticket_store.add_outbound_message(
        ticket.id,
        author=author,
        sender=sender,
        to=[ticket.customer],
        cc=[Participant(name='', email=a) for a in cc],
        subject=f'Re: {ticket.title} [#{ticket.number}]',
        text=text,
        html=sanitise_html(html),
        attachments=_stored(uploads),
        message_id=rfc_id,
        read=ticket,
    )
    _enqueue(outbox.entry_of(message))
    return message


def add_note(ticket_id: str, *, author: str, text: str, html: str) -> Message:
    from inboxdesk.dal import tickets as ticket_store

    return ticket_store.add_note(ticket_id, author=author, text=text, html=sanitise_html(html))


def open_ticket(
    *,
    author: str,
    customer: Participant,
    title: str,
    queue_id: str | None,
    priority: str,
    text: str,
    html: str,
    cc: list[str],
    attachment_ids: list[str],
) -> tuple[Ticket, Message]:
    """A ticket an agent opens for a customer: its first message is outbound (queued, like a reply)."""
    from inboxdesk.dal import counters, ids, outbox
    from inboxdesk.dal import queues as queue_store
    from inboxdesk.dal import tickets as ticket_store

    if queue_id is None:
        default = queue_store.get_default_queue()
        if default is None:
            raise InvalidRequestError('there is no queue yet: create one with POST /queues')
        queue_id = default.id
    sender = _sender_for(queue_id)
    _check_recipients([customer.email, *cc])
    uploads = uploaded_attachments(attachment_ids)
    now = ids.now_iso()
    ticket_id = ids.new_id()
    number = counters.next_ticket_number()
    rfc_id = _new_rfc_id(ticket_id, sender)
    clean_html = sanitise_html(html)
    ccs = tuple(Participant(name='', email=a) for a in cc)
    ticket = Ticket.opened(
        id=ticket_id,
        number=number,
        title=title,
        queue_id=queue_id,
        customer=customer,
        at=now,
        description=text,
        status='open',
        participants=ccs,
        assignee=author if '@' in author else None,
        priority=priority,
    )
    message = Message(
        id=ids.new_id(),
        ticket_id=ticket_id,
        direction='outbound',
        sender=sender,
        to=(customer,),
        cc=ccs,
        subject=f'{title} [#{number}]',
        text=text,
        html=clean_html,
        attachments=_stored(uploads),
        created_at=now,
        author=author,
        message_id=rfc_id,
        delivery_status='queued',
    )
    ticket_store.create_ticket(ticket, message, guard_keys=[], customer=customer)  # with its outbox entry
    _enqueue(outbox.entry_of(message))
    return ticket, message


def requeue_pending_replies(now: datetime | None = None, grace_seconds: int = REQUEUE_GRACE_SECONDS) -> int:
    """Queue again the replies whose job never reached the queue; returns how many were queued."""
    from inboxdesk.dal import outbox
    from inboxdesk.dal import tickets as ticket_store
    from inboxdesk.dal.ids import iso_time

    cutoff = iso_time((now or datetime.now(UTC)) - timedelta(seconds=grace_seconds))
    queued = 0
    for entry in outbox.pending(cutoff, REQUEUE_BATCH):
        try:
            status = ticket_store.get_message(entry.ticket_id, entry.message_id).delivery_status
        except NotFoundError:
            status = None
        if status != 'queued':
            outbox.remove(entry)  # gone, or already on its way
            continue
        if not _enqueue(entry):
            break  # the queue is still refusing: try again next time
        queued += 1
    return queued
