"""Ingestion: one stored raw mail becomes a ticket, a message on a ticket, a linked bounce, or nothing
(a duplicate or a loop) - exactly once, whatever the redelivery.

`ingest(notice)` runs these stages: read the raw mail from S3 and parse it; drop loops; route to a
queue; verify the reply tokens it carries (the key is read only when one is there); look up threading
pointers, the tagged ticket, the tickets tokens name and the dedupe guards in one BatchGetItem (only
when the mail refers to something); drop our own mail coming back (its own Message-ID is one we sent);
decide the thread; store attachments in S3 (withheld on a virus FAIL); write ticket, message, pointer,
guards and customer in one transaction; publish events; acknowledge a new ticket
(`logic.acknowledgements`: when its queue says so, queued for the reply sender).

AWS calls for a new mail with a warm queue cache: S3 GetObject, BatchGetItem (the dedupe guards: a
redelivery takes no ticket number), UpdateItem (ticket number), TransactWriteItems, one PutObject per
attachment (and one for a body over the inline limit, one for an attachment list longer than an item
keeps), PutEvents. A reply's BatchGetItem also reads pointers and the ticket when a Message-ID it
names came from `threading.make_message_id`, and it takes no number; otherwise also a GetItem.

Rules worth knowing: an answer from a participant reopens a solved or pending ticket (a closed
one stays closed, the message is still added); automatic mail never reopens and never joins
participants; a delivery report about mail we sent goes on that mail's ticket, and only a failed
delivery marks the mail failed (a delay or success report does not); an unlinked bounce becomes a
ticket flagged as a bounce; a virus FAIL withholds the attachments and makes a new ticket spam (a
reply keeps its ticket's status: a forged reply cannot bin a ticket); every field a mail puts on an item
is cut to a bound and loses control characters, so no mail is too large for DynamoDB; an unreadable mail is
attached to its message as `original.eml`, stored under the ticket (raw mail expires); a redelivery
is known by its guards before a number is taken; only two copies racing each other can leave a gap;
poller jobs are routed by their headers (a mailbox is not linked to a queue yet).

A fresh deployment has no queue: when a mail matches no queue and there is no default queue, ingestion
creates the default queue `Support` owning the envelope recipient the mail came to (SES accepts mail
only for our domains, so that address is ours; a poller job has none, and the queue then owns no
address). Two first mails at once make one queue (a conditional write on the default pointer); the
creation is logged (`default queue created`) and counted (`DefaultQueueCreated`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from inboxdesk import ids
from inboxdesk.config import InboundSettings, inbound_settings
from inboxdesk.dal import counters, mail_store, queues, tickets
from inboxdesk.dal.queues import RoutingTable
from inboxdesk.dal.tickets import MessagePointer, ThreadLookup
from inboxdesk.errors import (
    ConflictError,
    DuplicateMessageError,
    NoQueueError,
    NotFoundError,
    PreconditionFailedError,
    TicketNumberTakenError,
)
from inboxdesk.events import MESSAGE_RECEIVED, TICKET_CREATED, publish
from inboxdesk.ids import normalise_address, normalise_rfc_id, strip_controls
from inboxdesk.logic import loops, routing, threading
from inboxdesk.logic.acknowledgements import acknowledge
from inboxdesk.logic.queues import ensure_default_queue
from inboxdesk.logic.tickets import MAX_PARTICIPANTS, TITLE_LIMIT, after_message
from inboxdesk.mail.model import Address, Attachment, ParsedEmail
from inboxdesk.models import (
    InboundNotice,
    IngestOutcome,
    Message,
    MessageFlags,
    OutcomeKind,
    Participant,
    Queue,
    StoredAttachment,
    Ticket,
)
from inboxdesk.names import DEFAULT_QUEUE_CREATED_METRIC, DEFAULT_QUEUE_NAME, REPLY_TOKEN_REJECTED_METRIC
from inboxdesk.observability import count, logger

# Items are limited to 400 KB: every field a mail puts on its ticket and message items is capped (the raw
# mail keeps all; attachment entries beyond what an item keeps go to a manifest, `dal.tickets`). Worst case,
# four UTF-8 bytes a character: 2 x 100 addresses ~ 130 KB, 50 attachment entries ~ 120 KB, 50 references
# ~ 50 KB: about 310 KB together.
MAX_ADDRESSES = 100
MAX_REFERENCES = 50
SUBJECT_LIMIT = 998
NAME_LIMIT = 100  # display names
ADDRESS_LIMIT = 254  # RFC 5321's longest usable address
FILENAME_LIMIT = 255
CONTENT_ID_LIMIT = 250
CONTENT_TYPE_LIMIT = 127  # RFC 6838: type and subtype at most 127 characters each
RFC_ID_LIMIT = 250  # a longer Message-ID is stored cut (no real mail system makes one)
DESCRIPTION_LIMIT = 1000
WRITE_ATTEMPTS = 6
UNREADABLE_DEFECTS = ('not-mime', 'reader-error')
REOPENING_STATUSES = ('solved', 'pending')


def title_of(subject: str) -> str:
    cleaned = ' '.join(strip_controls(subject or '').split())
    if not cleaned:
        return '(no subject)'
    return cleaned if len(cleaned) <= TITLE_LIMIT else cleaned[: TITLE_LIMIT - 1].rstrip() + '…'


def description_of(text: str) -> str:
    """The first message's text, cut at a word boundary near DESCRIPTION_LIMIT characters."""
    cleaned = (text or '').strip()
    if len(cleaned) <= DESCRIPTION_LIMIT:
        return cleaned
    cut = cleaned[:DESCRIPTION_LIMIT]
    space = cut.rfind(' ', DESCRIPTION_LIMIT // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + '…'


def failure_reason_of(email: ParsedEmail) -> str:
    """`bounced: alice@customer.test: 5.1.1 smtp; 550 5.1.1 ... User unknown`: the failed recipients and why,
    as far as the report says (a reason that already names each recipient is not prefixed with them)."""
    c = email.classification
    recipients = ', '.join(c.failed_recipients)
    reason = c.bounce_reason
    if reason and c.failed_recipients and reason.startswith(f'{c.failed_recipients[0]}: '):
        return f'bounced: {reason}'
    return ': '.join(part for part in ('bounced', recipients, reason) if part)


def _name(text: str) -> str:
    """A display name as stored: its words, no control characters, at most NAME_LIMIT characters."""
    return ' '.join(strip_controls(text).split())[:NAME_LIMIT]


def _participant(address: Address | None) -> Participant:
    if address is None or not address.address:
        return Participant(name=_name(address.name) if address else '', email='')
    return Participant(name=_name(address.name), email=address.address.lower()[:ADDRESS_LIMIT])


def _rfc_id(value: str) -> str:
    return normalise_rfc_id(value)[:RFC_ID_LIMIT]


def _flags(email: ParsedEmail, unreadable: bool) -> MessageFlags:
    c = email.classification
    return MessageFlags(
        auto_reply=c.is_auto_reply,
        out_of_office=c.is_out_of_office,
        bounce=c.is_bounce,
        mailing_list=c.is_list,
        unreadable=unreadable,
    )


def _store_attachments(
    parts: list[Attachment], *, ticket_id: str, message_id: str, withhold: bool
) -> tuple[list[StoredAttachment], list[str]]:
    """Each part in S3 under the ticket (none when withheld: listed, not stored); the keys written."""
    stored: list[StoredAttachment] = []
    written: list[str] = []
    for index, part in enumerate(parts):
        key = None
        if not withhold:
            key = mail_store.attachment_key(ticket_id, message_id, index, part.filename)
            mail_store.put_object(key, part.content, part.content_type or 'application/octet-stream')
            written.append(key)
        stored.append(
            StoredAttachment(
                id=f'{message_id}-{index}',
                filename=strip_controls(part.filename)[:FILENAME_LIMIT] or 'attachment',
                content_type=part.content_type[:CONTENT_TYPE_LIMIT],
                size=part.size,
                content_id=part.content_id[:CONTENT_ID_LIMIT] if part.content_id else None,
                inline=part.inline,
                s3_key=key,
            )
        )
    return stored, written


def _duplicate(ticket_id: str | None, queue: Queue, written: list[str], guards: list[str]) -> IngestOutcome:
    if ticket_id is None:  # lost the race at the transaction: the guard names the ticket (one BatchGetItem)
        ticket_id = tickets.lookup_thread(rfc_ids=[], ticket_number=None, guard_keys=guards).duplicate_of
    if written:
        try:
            mail_store.delete_objects(written)
        except Exception:  # noqa: BLE001 - orphans are harmless; the duplicate outcome matters
            logger.warning('could not remove objects of a duplicate', objects=len(written))
    return IngestOutcome(kind='duplicate', ticket_id=ticket_id, queue_id=queue.id, queue_name=queue.name)


@dataclass(frozen=True, slots=True)
class _ReadMail:
    email: ParsedEmail
    parts: list[Attachment]  # what becomes the message's attachments (with the raw mail when unreadable)
    unreadable: bool


def ingest(notice: InboundNotice) -> IngestOutcome:
    """Turn the raw mail the notice names into tickets and messages; see the module docstring.

    Raises StoredMailUnavailableError (the object cannot be read) and NoQueueError (nowhere to route):
    both retry and end in the DLQ. Everything else about the mail itself is an outcome."""
    settings = inbound_settings()
    mail = _read(notice)
    table = queues.routing_table(settings.queue_cache_seconds)
    reason = loops.loop_reason(mail.email, table.addresses, settings.own_domains)
    if reason:
        return IngestOutcome(kind='loop_dropped', reason=reason)
    queue = _route(mail.email, notice, table)
    guards = tickets.mail_guards(
        queue.id, mail.email.message_id, ses_message_id=notice.ses_message_id, bucket=notice.bucket, key=notice.key
    )
    bounce_id = _bounced_rfc_id(mail.email)
    tokens = _verified_tokens(mail.email, notice)
    own_id = _maybe_our_id(mail.email, table, settings)
    lookup = _look_up(mail.email, bounce_id, guards, tokens, own_id)
    if lookup.duplicate_of:
        return _duplicate(lookup.duplicate_of, queue, [], guards)
    if own_id and _sent_by_us(lookup.pointers.get(own_id)):  # our own mail forwarded back to us
        return IngestOutcome(kind='loop_dropped', reason='own-message-id')
    decision, failed_delivery = _thread(mail.email, bounce_id, lookup, notice, tokens)
    message, written = _message(mail, notice, decision)
    sender = _participant(mail.email.from_)
    ccs = _external_ccs(mail.email, table, settings)
    outcome = None
    with mail_store.removing_on_failure(written):  # a failed attempt leaves no attachments behind
        if decision.ticket_id is not None:
            prefetched = lookup.tickets.get(decision.ticket_id)
            outcome = _append(message, queue, prefetched, guards, sender, ccs, failed_delivery, written)
            if outcome is None:  # the ticket the pointer names is gone: start a new one
                message = replace(message, thread_rule='new')
        if outcome is None:
            outcome = _create(message, queue, guards, sender, ccs, written)
    if outcome.kind != 'duplicate':
        _publish(outcome, message, sender)
    if outcome.kind == 'created' and outcome.ticket_number is not None:
        _acknowledge(outcome.ticket_number, message, queue, sender, mail.email, settings)
    return outcome


def _acknowledge(
    number: int, message: Message, queue: Queue, sender: Participant, email: ParsedEmail, settings: InboundSettings
) -> None:
    """The ticket is stored whatever happens here: a failed acknowledgement is logged, never retried (a retry
    would find the mail a duplicate)."""
    try:
        acknowledge(
            ticket_id=message.ticket_id,
            ticket_number=number,
            title=title_of(message.subject),
            customer=sender,
            queue=queue,
            email=email,
            outbound_queue_url=settings.outbound_queue_url,
        )
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning('acknowledgement failed', ticket_id=message.ticket_id, error=type(exc).__name__)


def _read(notice: InboundNotice) -> _ReadMail:
    from inboxdesk.mail import read_email  # the reader (email package, charsets): only when a mail arrives

    raw = mail_store.get_raw_mail(notice.bucket, notice.key)
    email = read_email(raw)
    parts = list(email.attachments)
    unreadable = any(d.startswith(UNREADABLE_DEFECTS) for d in email.defects)
    if unreadable:  # the agent downloads the mail itself, kept with the ticket (raw/ expires)
        parts.append(Attachment('original.eml', 'message/rfc822', len(raw), None, False, raw))
    return _ReadMail(email=email, parts=parts, unreadable=unreadable)


def _route(email: ParsedEmail, notice: InboundNotice, table: RoutingTable) -> Queue:
    queue, _how = routing.choose_queue(
        routing.candidate_recipients(email, notice.recipients), table.by_address, table.default
    )
    return queue if queue is not None else _first_queue(notice)


def _bounced_rfc_id(email: ParsedEmail) -> str | None:
    """The Message-ID of the mail a delivery report is about (ours, if we sent it)."""
    bounced = email.classification.bounced_message_id if email.is_bounce else None
    return normalise_rfc_id(bounced) if bounced else None


def _verified_tokens(email: ParsedEmail, notice: InboundNotice) -> list[tuple[threading.TokenPlace, str]]:
    """(where found, ticket id) of the reply tokens in the mail whose MAC is right, in the order they count.
    The key is read only when something looks like a token; one that does not verify is logged and counted."""
    candidates = threading.reply_token_candidates(email, notice.recipients)
    if not candidates:
        return []
    from inboxdesk import reply_tokens
    from inboxdesk.dal import secrets

    key = secrets.reply_token_key()
    verified: list[tuple[threading.TokenPlace, str]] = []
    for place, token in candidates:
        ticket_id = reply_tokens.verify_token(token, key)
        if ticket_id is None:
            logger.warning('reply token rejected', place=place, s3_key=notice.key)
            count(REPLY_TOKEN_REJECTED_METRIC)
        else:
            verified.append((place, ticket_id))
    return verified


def _maybe_our_id(email: ParsedEmail, table: RoutingTable, settings: InboundSettings) -> str | None:
    """The mail's own Message-ID when we could have made it (one of our domains) or SES could have given it
    to mail we sent; only then is it looked up, to tell our own mail coming back."""
    if email.message_id_generated:
        return None
    rfc_id = normalise_rfc_id(email.message_id)
    domain = rfc_id.rpartition('@')[2]
    ours = {*settings.own_domains, *(a.rpartition('@')[2] for a in table.addresses)}
    return rfc_id if domain in ours or domain.endswith('.amazonses.com') else None


def _sent_by_us(pointer: MessagePointer | None) -> bool:
    """Whether the pointer names an outbound message (an inbound one is the same mail sent to another queue)."""
    if pointer is None:
        return False
    try:
        return tickets.get_message(pointer.ticket_id, pointer.message_id).direction == 'outbound'
    except NotFoundError:
        return False


def _look_up(
    email: ParsedEmail,
    bounce_id: str | None,
    guards: list[str],
    tokens: list[tuple[threading.TokenPlace, str]],
    own_id: str | None,
) -> ThreadLookup:
    """The guards, pointers, the tagged ticket's number item and the tickets tokens name in one read: a
    redelivery is known before a ticket number is taken for it."""
    referenced = threading.referenced_ids(email)
    tag = threading.subject_tag(email.subject)
    wanted = list(dict.fromkeys([*referenced, *(i for i in (bounce_id, own_id) if i)]))
    hinted = list(dict.fromkeys([*(ticket_id for _place, ticket_id in tokens), *threading.ticket_hints(wanted)]))
    return tickets.lookup_thread(rfc_ids=wanted, ticket_number=tag, guard_keys=guards, ticket_ids=hinted)


def _thread(
    email: ParsedEmail,
    bounce_id: str | None,
    lookup: ThreadLookup,
    notice: InboundNotice,
    tokens: list[tuple[threading.TokenPlace, str]],
) -> tuple[threading.ThreadDecision, tuple[MessagePointer, str] | None]:
    """Which ticket the mail goes on, and the outgoing mail a failed delivery report marks as failed."""
    if bounce_id and bounce_id in lookup.pointers:  # a delivery report about mail we sent: on its ticket
        pointer = lookup.pointers[bounce_id]
        failed = email.classification.bounce_action == 'failed'  # a delay or a success report changes nothing
        return threading.ThreadDecision(pointer.ticket_id, 'bounce'), (
            (pointer, failure_reason_of(email)) if failed else None
        )
    decision = threading.decide(
        email,
        pointers={rfc_id: p.ticket_id for rfc_id, p in lookup.pointers.items()},
        tagged_ticket=lambda: _read_ticket(lookup, lookup.numbered_ticket_id),
        dmarc_failed=notice.verdicts.dmarc_failed,
        tokens=tokens,
        token_ticket=lambda ticket_id: _read_ticket(lookup, ticket_id),
    )
    return decision, None


def _external_ccs(email: ParsedEmail, table: RoutingTable, settings: InboundSettings) -> list[Participant]:
    external = loops.external(email.cc, table.addresses, settings.own_domains)
    return [_participant(a) for a in external[:MAX_PARTICIPANTS]]


def _message(mail: _ReadMail, notice: InboundNotice, decision: threading.ThreadDecision) -> tuple[Message, list[str]]:
    """The inbound message, its attachments stored in S3 under its ticket (listed, not stored, when withheld),
    and the keys written."""
    email = mail.email
    message_id = ids.new_id()
    ticket_id = decision.ticket_id or ids.new_id()
    withhold = notice.verdicts.virus_failed
    attachments, written = _store_attachments(mail.parts, ticket_id=ticket_id, message_id=message_id, withhold=withhold)
    sender = _participant(email.from_)
    message = Message(
        id=message_id,
        ticket_id=ticket_id,
        direction='inbound',
        sender=sender if sender.email or sender.name else None,
        to=tuple(_participant(a) for a in email.to[:MAX_ADDRESSES]),
        cc=tuple(_participant(a) for a in email.cc[:MAX_ADDRESSES]),
        subject=strip_controls(email.subject)[:SUBJECT_LIMIT],
        text=email.text,
        html=email.html,  # sanitised by the reader (`mail.html.sanitise`), once
        attachments=tuple(attachments),
        created_at=ids.now_iso(),
        raw_key=notice.key,
        rfc_id=_rfc_id(email.message_id),
        in_reply_to=_rfc_id(email.in_reply_to) if email.in_reply_to else None,
        references=tuple(_rfc_id(r) for r in email.references[-MAX_REFERENCES:]),
        thread_rule=decision.rule,
        flags=_flags(email, mail.unreadable),
        attachments_withheld=withhold and bool(mail.parts),
        verdicts=notice.verdicts,
    )
    return message, written


def _first_queue(notice: InboundNotice) -> Queue:
    """No queue matched and there is no default: the default queue, created unless a concurrent mail just did,
    owning the envelope recipient this mail came to."""
    address = next((normalise_address(a) for a in notice.recipients if '@' in a), None)
    try:
        queue, created = ensure_default_queue(name=DEFAULT_QUEUE_NAME, inbound_addresses=[address] if address else [])
    except ConflictError as exc:
        raise NoQueueError(f'no queue has this address and there is no default queue: {exc}') from exc
    if created:
        logger.info(
            'default queue created',
            queue_id=queue.id,
            queue=queue.name,
            inbound_addresses=list(queue.inbound_addresses),
        )
        count(DEFAULT_QUEUE_CREATED_METRIC)
    return queue


def _read_ticket(lookup: ThreadLookup, ticket_id: str | None) -> Ticket | None:
    """A ticket the subject tag or a quoted token names (read with the lookup, else one GetItem), kept with
    the lookup so appending to it reads it no more."""
    if ticket_id is None:
        return None
    if ticket_id not in lookup.tickets:
        try:
            lookup.tickets[ticket_id] = tickets.get_ticket(ticket_id)
        except NotFoundError:
            return None
    return lookup.tickets[ticket_id]


def _write(
    kind: OutcomeKind,
    message: Message,
    queue: Queue,
    *,
    guards: list[str],
    written: list[str],
    write_once: Callable[[int], Ticket],
) -> IngestOutcome:
    """Run `write_once(attempt)` (one transaction; returns the ticket as written) until it succeeds.

    A guard that exists makes the mail a duplicate; any other conflict (a concurrent writer) is tried again."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            ticket = write_once(attempt)
        except DuplicateMessageError:
            return _duplicate(None, queue, written, guards)
        except PreconditionFailedError:
            continue
        ticket_queue = queues.routing_table(inbound_settings().queue_cache_seconds).queue(ticket.queue_id) or queue
        return IngestOutcome(
            kind=kind,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            queue_id=ticket_queue.id,
            queue_name=ticket_queue.name,
            thread_rule=message.thread_rule,
            message_id=message.id,
        )
    raise PreconditionFailedError(f'ticket {message.ticket_id} kept changing')


def _create(
    message: Message,
    queue: Queue,
    guards: list[str],
    sender: Participant,
    ccs: list[Participant],
    written: list[str],
) -> IngestOutcome:
    """A new ticket in `queue` whose first message is `message`: SES's spam or virus FAIL makes it spam."""
    spam = message.verdicts.virus_failed or message.verdicts.spam_failed
    ticket = Ticket.opened(
        id=message.ticket_id,
        number=counters.next_ticket_number(),
        title=title_of(message.subject),
        queue_id=queue.id,
        customer=sender,
        at=message.created_at,
        description=description_of(message.text),
        status='spam' if spam else 'new',
        participants=tuple(p for p in ccs if p.email != sender.email),
        verdicts=message.verdicts,
    )

    number_taken = False  # the last attempt failed because its number already names a ticket

    def write_once(_attempt: int) -> Ticket:
        nonlocal ticket, number_taken
        if number_taken:  # the counter is behind the number items (e.g. restored from a backup): take the next
            logger.warning('ticket number taken', ticket_id=ticket.id, ticket_number=ticket.number)
            ticket = replace(ticket, number=counters.next_ticket_number())
        try:
            written.extend(tickets.create_ticket(ticket, message, guard_keys=guards, customer=sender))
        except PreconditionFailedError as exc:
            number_taken = isinstance(exc, TicketNumberTakenError)
            raise
        return ticket

    return _write('created', message, queue, guards=guards, written=written, write_once=write_once)


def _append(
    message: Message,
    queue: Queue,
    prefetched: Ticket | None,
    guards: list[str],
    sender: Participant,
    ccs: list[Participant],
    failed_delivery: tuple[MessagePointer, str] | None,
    written: list[str],
) -> IngestOutcome | None:
    """The message added to its ticket; None when that ticket no longer exists. Unless the mail is automatic,
    its sender and CCs join the participants, and a participant's answer reopens a solved or pending ticket."""
    automatic = message.flags.automatic
    joining = [] if automatic else [p for p in (sender, *ccs) if p.email]

    def write_once(attempt: int) -> Ticket:
        # The ticket read with the pointer saves a GetItem; if it was stale, the version check fails and we read again.
        before = prefetched if attempt == 0 and prefetched is not None else tickets.get_ticket(message.ticket_id)
        after = after_message(before, message.created_at, joining=joining)
        from_participant = bool(sender.email) and before.is_participant(sender.email)
        if not automatic and from_participant and before.status in REOPENING_STATUSES:
            after = replace(after, status='open')
        is_customer = bool(sender.email) and before.customer.email == sender.email
        written.extend(
            tickets.append_message(
                before,
                after,
                message,
                guard_keys=guards,
                customer=sender if is_customer else None,
                failed_delivery=failed_delivery,
            )
        )
        return after

    kind: OutcomeKind = 'bounce_linked' if message.thread_rule == 'bounce' else 'appended'
    try:
        return _write(kind, message, queue, guards=guards, written=written, write_once=write_once)
    except NotFoundError:
        return None


def _publish(outcome: IngestOutcome, message: Message, sender: Participant) -> None:
    detail = {
        'ticket_id': outcome.ticket_id,
        'ticket_number': outcome.ticket_number,
        'queue_id': outcome.queue_id,
        'message_id': message.id,
        'direction': message.direction,
        'thread_rule': message.thread_rule,
        'automatic': message.flags.automatic,
        'bounce': message.flags.bounce,
        'customer_email': sender.email or None,
    }
    events = [(MESSAGE_RECEIVED, detail)]
    if outcome.kind == 'created':
        events.insert(0, (TICKET_CREATED, detail))
    publish(events)
