"""Agents' messages: replies, notes and tickets an agent opens for a customer.

Replies are never lost: the reply is stored as an outbound message with delivery status `queued`
together with its outbox entry, in one transaction (`dal.tickets`, `dal.outbox`); the entry is
deleted only once the job is on the outbound SQS queue. When SQS refuses the job, the entry stays;
`requeue_pending_replies` (run every minute by the scheduled reply sweep, not on the agent's request
path) sends the job again. Duplicate jobs are harmless: the sender is idempotent on the message id.

Agents' HTML is sanitised here, once, when it is written, with the same sanitiser as inbound mail
(`mail.html.sanitise`): what is stored is what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from inboxdesk import ids
from inboxdesk.config import api_settings
from inboxdesk.dal import counters, outbox
from inboxdesk.dal import queues as queue_store
from inboxdesk.dal import tickets as ticket_store
from inboxdesk.dal.outbox import OutboxEntry
from inboxdesk.errors import ConflictError, InvalidRequestError, NotFoundError, PreconditionFailedError
from inboxdesk.logic.attachments import as_stored, uploaded_attachments
from inboxdesk.logic.settings import suppressed
from inboxdesk.logic.threading import make_message_id
from inboxdesk.logic.tickets import after_message
from inboxdesk.models import Message, MessageFlags, Participant, Priority, ReplyJob, StoredAttachment, Ticket
from inboxdesk.names import SERVICE_API
from inboxdesk.observability import service_name

logger = Logger(service=service_name(SERVICE_API), child=True)  # under the API function's logger

REQUEUE_GRACE_SECONDS: Final = 60  # a reply younger than this may still be on its way to the queue
REQUEUE_BATCH: Final = 25
WRITE_ATTEMPTS: Final = 5
NOT_AUTOMATIC: Final = MessageFlags()


def _sanitised(html: str) -> str:
    if not html:
        return ''
    from inboxdesk.mail.html import sanitise  # on first use: importing `inboxdesk.mail` loads the whole reader

    return sanitise(html)


def sender_for(queue_id: str) -> Participant:
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
    blocked = suppressed(addresses)
    if blocked:
        raise InvalidRequestError(f'Inboxdesk never sends to {", ".join(blocked)} (outgoing filter)')


def enqueue(entry: OutboxEntry, queue_url: str | None = None) -> bool:
    """True when the job is on the outbound queue (`queue_url`, the API's by default) and the outbox entry
    gone; False when SQS refused it: the entry stays for the sweep. Anything but an AWS error (a bug, a
    missing setting) propagates."""
    try:
        outbox.send_job(
            ReplyJob(entry.ticket_id, entry.message_id, entry.rfc_id), queue_url or api_settings().outbound_queue_url
        )
    except (BotoCoreError, ClientError) as exc:
        logger.warning(
            'reply job not queued', ticket_id=entry.ticket_id, message_id=entry.message_id, error=type(exc).__name__
        )
        return False
    outbox.remove(entry)
    return True


def new_rfc_id(ticket_id: str, sender: Participant) -> str:
    """The Message-ID of mail we send about a ticket, normalised as every pointer, message and ReplyJob holds
    it. It carries the ticket id, so ingestion reads the ticket of a customer's answer in the same
    BatchGetItem as the pointer."""
    return ids.normalise_rfc_id(make_message_id(ticket_id, sender.email.rpartition('@')[2]))


def _append(message: Message, rfc_ids: Sequence[str], read: Ticket | None) -> Message:
    """`message` written with its ticket bumped, at the version read (`read`, else one GetItem; read again
    after a conflict)."""
    ticket = read or ticket_store.get_ticket(message.ticket_id)  # NotFoundError before anything is written
    for _attempt in range(WRITE_ATTEMPTS):
        try:
            ticket_store.append_agent_message(ticket, after_message(ticket, message.created_at), message, rfc_ids)
            return message
        except PreconditionFailedError:
            ticket = ticket_store.get_ticket(message.ticket_id)  # someone else wrote the ticket meanwhile
    raise ConflictError(f'ticket {message.ticket_id} is too busy, try again')


def add_outbound_message(
    ticket_id: str,
    *,
    author: str,
    sender: Participant,
    to: Sequence[Participant],
    cc: Sequence[Participant] = (),
    subject: str,
    text: str,
    html: str = '',
    attachments: Sequence[StoredAttachment] = (),
    rfc_id: str,
    read: Ticket | None = None,
    flags: MessageFlags = NOT_AUTOMATIC,
    suppressed_because: str | None = None,
) -> Message:
    """Store a message to the customer (delivery status `queued`) with its outbox entry and the pointer of
    its Message-ID, so the customer's answer threads. `read`: the ticket as the caller just read it (saves
    a GetItem; a stale one costs a retry). The ticket's status is left to the caller. `flags`: what kind of
    automatic mail it is (an acknowledgement); `suppressed_because`: stored as `suppressed`, never sent."""
    normalised = ids.normalise_rfc_id(rfc_id)
    message = Message(
        id=ids.new_id(),
        ticket_id=ticket_id,
        direction='outbound',
        sender=sender,
        to=tuple(to),
        cc=tuple(cc),
        subject=subject,
        text=text,
        html=_sanitised(html),
        attachments=tuple(attachments),
        created_at=ids.now_iso(),
        author=author,
        rfc_id=normalised,
        flags=flags,
        delivery_status='suppressed' if suppressed_because else 'queued',
        delivery_reason=suppressed_because,
    )
    return _append(message, [normalised], read)


def reply(ticket_id: str, *, author: str, text: str, html: str, cc: list[str], attachment_ids: list[str]) -> Message:
    """Store the reply as `queued`, then put its job on the outbound queue (see the module docstring)."""
    ticket = ticket_store.get_ticket(ticket_id)
    _check_recipients([ticket.customer.email, *cc])
    uploads = uploaded_attachments(attachment_ids)
    sender = sender_for(ticket.queue_id)
    message = add_outbound_message(
        ticket.id,
        author=author,
        sender=sender,
        to=[ticket.customer],
        cc=[Participant(name='', email=a) for a in cc],
        subject=f'Re: {ticket.title} [#{ticket.number}]',
        text=text,
        html=html,
        attachments=as_stored(uploads),
        rfc_id=new_rfc_id(ticket.id, sender),
        read=ticket,
    )
    enqueue(outbox.entry_of(message))
    return message


def add_note(ticket_id: str, *, author: str, text: str, html: str = '') -> Message:
    """An internal note: stored with the ticket, never emailed."""
    note = Message(
        id=ids.new_id(),
        ticket_id=ticket_id,
        direction='note',
        sender=None,
        to=(),
        cc=(),
        subject='',
        text=text,
        html=_sanitised(html),
        attachments=(),
        created_at=ids.now_iso(),
        author=author,
    )
    return _append(note, [], None)


def open_ticket(
    *,
    author: str,
    customer: Participant,
    title: str,
    queue_id: str | None,
    priority: Priority,
    text: str,
    html: str,
    cc: list[str],
    attachment_ids: list[str],
) -> tuple[Ticket, Message]:
    """A ticket an agent opens for a customer: its first message is outbound (queued, like a reply)."""
    if queue_id is None:
        default = queue_store.get_default_queue()
        if default is None:
            raise InvalidRequestError('there is no queue yet: create one with POST /queues')
        queue_id = default.id
    sender = sender_for(queue_id)
    _check_recipients([customer.email, *cc])
    uploads = uploaded_attachments(attachment_ids)
    now = ids.now_iso()
    ticket_id = ids.new_id()
    number = counters.next_ticket_number()
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
        html=_sanitised(html),
        attachments=as_stored(uploads),
        created_at=now,
        author=author,
        rfc_id=new_rfc_id(ticket_id, sender),
        delivery_status='queued',
    )
    ticket_store.create_ticket(ticket, message, guard_keys=[], customer=customer)  # with its outbox entry
    enqueue(outbox.entry_of(message))
    return ticket, message


def requeue_pending_replies(now: datetime | None = None, grace_seconds: int = REQUEUE_GRACE_SECONDS) -> int:
    """Queue again the replies whose job never reached the queue; returns how many were queued."""
    cutoff = ids.iso_time((now or datetime.now(UTC)) - timedelta(seconds=grace_seconds))
    queued = 0
    for entry in outbox.pending(cutoff, REQUEUE_BATCH):
        try:
            status = ticket_store.get_message(entry.ticket_id, entry.message_id).delivery_status
        except NotFoundError:
            status = None
        if status != 'queued':
            outbox.remove(entry)  # gone, or already on its way
            continue
        if not enqueue(entry):
            break  # the queue is still refusing: try again next time
        queued += 1
    return queued
