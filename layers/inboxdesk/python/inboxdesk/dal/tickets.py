"""Tickets, their messages, and the threading pointers and guards written with them.

Reads are GetItem, BatchGetItem or Query; every write that must agree with another goes in one
transaction. A ticket is stored twice (the ticket and its list copy, see `dal.table`). A change of its
fields is conditional on the version read, so concurrent writers never lose an update; a new message
only adds to the count and moves the activity time forward, so messages never conflict with each other
(`_write_ticket`). `PreconditionFailedError` tells the caller to read again.

A queued outbound message (an agent's reply, or the first message of a ticket an agent opens) is
written with its outbox entry (`dal.outbox`) in the same transaction.

The rules (which changes are allowed, who joins a ticket, when to retry) are `logic`'s: this module
stores what it is given. For the API: get_ticket, get_ticket_by_number, list_tickets, save_ticket,
list_messages, get_message, append_agent_message. For the outbound sender: mark_delivery. For
ingestion: lookup_thread, create_ticket, append_message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, cast

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from inboxdesk import cursors, resources
from inboxdesk.config import storage_settings
from inboxdesk.dal import customers, keys, mail_store, outbox, stack_secrets
from inboxdesk.dal.table import (
    GuardItem,
    InboxdeskItem,
    MessageIdItem,
    MessageItem,
    OutboxItem,
    TicketItem,
    TicketNumberItem,
    Transaction,
)
from inboxdesk.errors import (
    DuplicateMessageError,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    TicketNumberTakenError,
)
from inboxdesk.ids import normalise_rfc_id
from inboxdesk.models import (
    DELIVERY_STATUSES,
    DIRECTIONS,
    PRIORITIES,
    THREAD_RULES,
    TICKET_STATUSES,
    DeliveryStatus,
    Message,
    MessageFlags,
    Participant,
    StoredAttachment,
    Ticket,
    TicketStatus,
    Verdicts,
)
from inboxdesk.names import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

_Word = TypeVar('_Word', bound=str)

# A message item keeps this many attachment entries (DynamoDB's 400 KB per item); a longer list is kept whole
# in an S3 manifest that every read of the message resolves.
MAX_ATTACHMENT_ENTRIES = 50

# ---------------------------------------------------------------- conversions


def _participants(data: Any) -> tuple[Participant, ...]:
    return tuple(Participant(name=str(p.get('name', '')), email=str(p.get('email', ''))) for p in data or ())


def _verdicts(data: Any) -> Verdicts:
    data = data or {}
    return Verdicts(**{k: data.get(k) for k in ('spam', 'virus', 'spf', 'dkim', 'dmarc')})


def _one_of(allowed: tuple[_Word, ...], value: str) -> _Word:
    """A stored vocabulary value, typed; an unknown one was written by a bug and surfaces as one."""
    for word in allowed:
        if word == value:
            return word
    raise LookupError(f'stored value {value!r} is not one of {", ".join(allowed)}')


# Attributes stored under the domain object's own names are copied without a line each: a new ticket
# field is the dataclass field, the item attribute and the API model field.
_TICKET_AS_STORED = tuple(
    f.name
    for f in fields(Ticket)
    if f.name in TicketItem.get_attributes() and f.name not in ('participants', 'verdicts')
)


def _to_ticket(item: TicketItem) -> Ticket:
    stored: dict[str, Any] = {name: getattr(item, name) for name in _TICKET_AS_STORED}
    return Ticket(
        **stored
        | {
            'id': item.ticket_id,
            'status': _one_of(TICKET_STATUSES, item.status),
            'priority': _one_of(PRIORITIES, item.priority or 'normal'),
            'customer': Participant(name=item.customer_name or '', email=item.customer_email),
            'participants': _participants(item.participants),
            'verdicts': _verdicts(item.verdicts),
        }
    )


def _ticket_items(ticket: Ticket) -> tuple[TicketItem, TicketItem]:
    """The ticket and its list copy, with every index attribute derived from the ticket's state. Every sort key
    is set even where its partition key is not (the item is then not in that index): activity updates set
    them all without reading which indexes the ticket is in."""
    attributes: dict[str, Any] = {name: getattr(ticket, name) for name in _TICKET_AS_STORED} | {
        'ticket_id': ticket.id,
        'customer_name': ticket.customer.name,
        'customer_email': ticket.customer.email,
        'participants': [p.to_json() for p in ticket.participants],
        'verdicts': ticket.verdicts.to_json(),
    }
    order = keys.activity_sk(ticket.last_activity_at, ticket.id)
    pk = keys.ticket_pk(ticket.id)
    main = TicketItem(
        pk,
        keys.TICKET_SK,
        **attributes,
        gsi1pk=keys.queue_pk(ticket.queue_id),
        gsi1sk=order,
        gsi2pk=keys.queue_status(ticket.queue_id, ticket.status),
        gsi2sk=order,
        gsi3pk=keys.status_key(ticket.status),
        gsi3sk=order,
        gsi4pk=keys.assignee_key(ticket.assignee) if ticket.assignee else None,
        gsi4sk=order,
        gsi5pk=keys.customer_key(ticket.customer.email) if ticket.customer.email else None,
        gsi5sk=order,
    )
    copy = TicketItem(
        pk,
        keys.TICKET_LIST_SK,
        **attributes,
        gsi1pk=keys.ALL_TICKETS,
        gsi1sk=order,
        gsi4pk=keys.assignee_status(ticket.assignee, ticket.status) if ticket.assignee else None,
        gsi4sk=order,
        gsi5pk=keys.customer_status(ticket.customer.email, ticket.status) if ticket.customer.email else None,
        gsi5sk=order,
    )
    return main, copy


def _flags(data: Any) -> MessageFlags:
    data = data or {}
    return MessageFlags(
        auto_reply=bool(data.get('auto_reply')),
        out_of_office=bool(data.get('out_of_office')),
        bounce=bool(data.get('bounce')),
        mailing_list=bool(data.get('mailing_list')),
        unreadable=bool(data.get('unreadable')),
    )


def _attachments(data: Any) -> tuple[StoredAttachment, ...]:
    return tuple(
        StoredAttachment(
            id=str(a.get('id', '')),
            filename=str(a.get('filename', '')),
            content_type=str(a.get('content_type', 'application/octet-stream')),
            size=int(a.get('size', 0)),
            content_id=a.get('content_id'),
            inline=bool(a.get('inline')),
            s3_key=a.get('s3_key'),
        )
        for a in data or ()
    )


def _to_message(item: MessageItem, *, resolve_body: bool = True) -> Message:
    text, html = item.text or '', item.html or ''
    if item.body_key and resolve_body:
        text, html = mail_store.get_body(item.body_key)
    attachments = item.attachments
    if item.attachment_manifest:
        attachments = mail_store.get_json(item.attachment_manifest)
    sender = _participants([item.sender])[0] if item.sender else None
    return Message(
        id=item.message_key,
        ticket_id=item.ticket_id,
        direction=_one_of(DIRECTIONS, item.direction),
        sender=sender,
        to=_participants(item.to),
        cc=_participants(item.cc),
        subject=item.subject or '',
        text=text,
        html=html,
        attachments=_attachments(attachments),
        created_at=item.created_at,
        author=item.author,
        raw_key=item.raw_key,
        rfc_id=item.rfc_id,
        in_reply_to=item.in_reply_to,
        references=tuple(str(r) for r in item.references or ()),
        provider_message_ids=tuple(str(r) for r in item.provider_message_ids or ()),
        thread_rule=_one_of(THREAD_RULES, item.thread_rule) if item.thread_rule else None,
        flags=_flags(item.flags),
        attachments_withheld=bool(item.attachments_withheld),
        delivery_status=_one_of(DELIVERY_STATUSES, item.delivery_status) if item.delivery_status else None,
        delivery_reason=item.delivery_reason,
        verdicts=_verdicts(item.verdicts),
    )


def _message_item(message: Message) -> tuple[MessageItem, list[str]]:
    """The message item; a body over the inline limit, and the attachment list when it is longer than an item
    keeps, are written to S3 first (their keys are returned)."""
    written: list[str] = []
    entries = [a.to_json() for a in message.attachments]
    manifest = None
    if len(entries) > MAX_ATTACHMENT_ENTRIES:
        manifest = mail_store.attachment_manifest_key(message.ticket_id, message.id)
        mail_store.put_json(manifest, entries)
        written.append(manifest)
    text: str | None = message.text
    html: str | None = message.html
    body_key = None
    if len(message.text.encode('utf-8')) + len(message.html.encode('utf-8')) > storage_settings().inline_body_limit:
        body_key = mail_store.body_key(message.ticket_id, message.id)
        mail_store.put_body(body_key, text=message.text, html=message.html)
        written.append(body_key)
        text = html = None
    item = MessageItem(
        keys.ticket_pk(message.ticket_id),
        keys.message_sk(message.id),
        message_key=message.id,
        ticket_id=message.ticket_id,
        direction=message.direction,
        sender=message.sender.to_json() if message.sender else None,
        to=[p.to_json() for p in message.to],
        cc=[p.to_json() for p in message.cc],
        subject=message.subject,
        text=text,
        html=html,
        body_key=body_key,
        attachments=entries[:MAX_ATTACHMENT_ENTRIES],
        attachment_manifest=manifest,
        created_at=message.created_at,
        author=message.author,
        raw_key=message.raw_key,
        rfc_id=message.rfc_id,
        in_reply_to=message.in_reply_to,
        references=list(message.references),
        provider_message_ids=list(message.provider_message_ids),
        thread_rule=message.thread_rule,
        flags=message.flags.to_json(),
        attachments_withheld=message.attachments_withheld,
        delivery_status=message.delivery_status,
        delivery_reason=message.delivery_reason,
        verdicts=message.verdicts.to_json(),
    )
    return item, written


def _save_message(tx: Transaction, item: MessageItem, message: Message) -> None:
    """The message, once (`pk` condition), and the outbox entry of a queued outbound message."""
    tx.put(item, condition=MessageItem.pk.does_not_exist())
    if message.direction == 'outbound' and message.delivery_status == 'queued':
        tx.put(outbox.outbox_item(message), condition=OutboxItem.pk.does_not_exist())


def _pointer(rfc_id: str, message: Message) -> MessageIdItem:
    return MessageIdItem(
        keys.message_id_pk(rfc_id),
        keys.SINGLE_SK,
        ticket_id=message.ticket_id,
        message_sk=keys.message_sk(message.id),
    )


# ---------------------------------------------------------------- reads


def get_ticket(ticket_id: str) -> Ticket:
    """NotFoundError when there is no such ticket (one GetItem)."""
    try:
        return _to_ticket(TicketItem.get(keys.ticket_pk(ticket_id), keys.TICKET_SK))
    except DoesNotExist as exc:
        raise NotFoundError(f'ticket {ticket_id} not found') from exc


def get_ticket_by_number(number: int) -> Ticket:
    """NotFoundError when no ticket has this number (two GetItems)."""
    try:
        pointer = TicketNumberItem.get(keys.ticket_number_pk(number), keys.SINGLE_SK)
    except DoesNotExist as exc:
        raise NotFoundError(f'ticket #{number} not found') from exc
    return get_ticket(pointer.ticket_id)


def _list_plan(
    queue: str | None, status: TicketStatus | None, assignee: str | None, customer: str | None
) -> tuple[str, str]:
    """The index and partition of a filter; queue wins over assignee over customer (logic allows only one)."""
    if queue:
        return ('gsi2', keys.queue_status(queue, status)) if status else ('gsi1', keys.queue_pk(queue))
    if assignee:
        return ('gsi4', keys.assignee_status(assignee, status)) if status else ('gsi4', keys.assignee_key(assignee))
    if customer:
        return 'gsi5', keys.customer_status(customer, status) if status else keys.customer_key(customer)
    if status:
        return 'gsi3', keys.status_key(status)
    return 'gsi1', keys.ALL_TICKETS


def list_tickets(
    *,
    queue: str | None = None,
    status: TicketStatus | None = None,
    assignee: str | None = None,
    customer: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> tuple[list[Ticket], str | None]:
    """One page of tickets, newest activity first, and the opaque cursor of the next page (None at the end).

    Filters: none, status, queue, assignee or customer (each + status). Each is one Query on
    an index (see `dal.table`). MalformedRequestError for a cursor this list did not give out (signed:
    `inboxdesk.cursors`), before anything is read."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    index_name, hash_key = _list_plan(queue, status, assignee, customer)
    index = getattr(InboxdeskItem, index_name)
    list_id = f'{index_name}/{hash_key}'
    last_key = cursors.unseal(cursor, list_id, stack_secrets.cursor_key()) if cursor else None
    results = index.query(hash_key, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=last_key)
    tickets = [_to_ticket(item) for item in results if isinstance(item, TicketItem)]
    next_key = results.last_evaluated_key
    next_cursor = None
    if next_key and len(tickets) >= limit:
        next_cursor = cursors.seal(list_id, next_key, stack_secrets.cursor_key())
    return tickets, next_cursor


def list_messages(ticket_id: str) -> list[Message]:
    """The conversation in order, bodies resolved from S3 (one Query, plus one S3 read per large body)."""
    return [
        _to_message(item)
        for item in MessageItem.query(keys.ticket_pk(ticket_id), MessageItem.sk.startswith(keys.MESSAGE_SK_PREFIX))
    ]


def get_message(ticket_id: str, message_id: str) -> Message:
    try:
        return _to_message(MessageItem.get(keys.ticket_pk(ticket_id), keys.message_sk(message_id)))
    except DoesNotExist as exc:
        raise NotFoundError(f'message {message_id} not found') from exc


# ---------------------------------------------------------------- writes


# Not compared as fields: the count, the time and the order keys (activity: added to, or moved forward only)
# and the version (moved on with any field change).
_ACTIVITY_ATTRIBUTES = frozenset(
    {'message_count', 'last_activity_at', 'version', *(f'{index}sk' for index in resources.TABLE_INDEXES)}
)


def _stored(item: TicketItem) -> dict[str, Any]:
    """The item's attributes as they are written (JSON ones serialised), without keys, entity and activity."""
    return {
        name: attribute.serialize(getattr(item, name)) if getattr(item, name) is not None else None
        for name, attribute in TicketItem.get_attributes().items()
        if name not in _ACTIVITY_ATTRIBUTES and name not in ('pk', 'sk', 'entity')
    }


def _write_ticket(
    tx: Transaction, before: Ticket | None, after: Ticket, *, new_message: bool, edit: bool = False
) -> None:
    """Both ticket items. A new ticket is put (it must not exist yet). An existing one is updated in place:
    the attributes that differ from `before` are set, the version moves on and the write is conditional on
    `before.version` (always for an agent's `edit`); a new message adds one to the count; a later activity
    time moves the time and every order key forward, conditional on the stored time being earlier. So
    messages added at once never conflict with each other, and only changed fields need the version read."""
    if before is None:
        main, copy = _ticket_items(after)
        tx.put(main, condition=TicketItem.pk.does_not_exist())
        tx.put(copy)
        return
    pairs = zip(_ticket_items(before), _ticket_items(after), strict=True)
    changed = [(old, new, _stored(old), _stored(new)) for old, new in pairs]
    versioned = edit or any(old_values != new_values for _o, _n, old_values, new_values in changed)
    later = after.last_activity_at > before.last_activity_at
    for old, new, old_values, new_values in changed:
        actions: list[Any] = []
        condition: Any = TicketItem.pk.exists()
        for name, value in new_values.items():
            if value != old_values[name]:
                attribute = getattr(TicketItem, name)
                actions.append(attribute.remove() if value is None else attribute.set(getattr(new, name)))
        if versioned:
            actions.append(TicketItem.version.set(before.version + 1))
            condition &= TicketItem.version == before.version
        if new_message:
            actions.append(TicketItem.message_count.add(1))
        if later:
            actions.append(TicketItem.last_activity_at.set(after.last_activity_at))
            order = keys.activity_sk(after.last_activity_at, after.id)
            actions.extend(getattr(TicketItem, f'{index}sk').set(order) for index in resources.TABLE_INDEXES)
            condition &= TicketItem.last_activity_at < after.last_activity_at
        if actions:
            tx.update(TicketItem(old.pk, old.sk), actions, condition=condition)


def _changed(ticket_id: str) -> Callable[[TransactWriteError], PreconditionFailedError]:
    def error(_cancelled: TransactWriteError) -> PreconditionFailedError:
        return PreconditionFailedError(f'ticket {ticket_id} changed meanwhile')

    return error


def save_ticket(before: Ticket, after: Ticket) -> None:
    """Store an agent's edit `after` (at version `before.version + 1`) if the ticket is still at
    `before.version`; PreconditionFailedError when it is not."""
    with Transaction(otherwise=_changed(before.id)) as tx:
        _write_ticket(tx, before, after, new_message=False, edit=True)


def append_agent_message(before: Ticket, after: Ticket, message: Message, rfc_ids: Sequence[str] = ()) -> None:
    """An agent's message (reply or note) with the ticket's count and activity moved on and the pointers of
    `rfc_ids`, in one transaction. Messages added at once do not conflict; PreconditionFailedError when a
    later activity was stored meanwhile (read again: the time then stays)."""
    item, written = _message_item(message)
    with mail_store.removing_on_failure(written), Transaction(otherwise=_changed(before.id)) as tx:
        _write_ticket(tx, before, after, new_message=True)
        _save_message(tx, item, message)
        for rfc_id in rfc_ids:
            tx.put(_pointer(rfc_id, message))


def mark_delivery(
    ticket_id: str,
    message_id: str,
    *,
    status: DeliveryStatus,
    reason: str | None = None,
    provider_message_ids: Sequence[str] = (),
) -> None:
    """Record the delivery status of an outbound message and the Message-IDs the provider gave it (SES:
    `<id@region.amazonses.com>`): replies naming those thread too. Once it is no longer queued, its
    outbox entry goes. NotFoundError when there is no such message."""
    if status not in DELIVERY_STATUSES:
        raise InvalidRequestError(f'unknown delivery status {status!r}')
    message = get_message(ticket_id, message_id)
    provider_ids = [normalise_rfc_id(m) for m in provider_message_ids]
    actions: list[Any] = [MessageItem.delivery_status.set(status)]
    actions.append(MessageItem.delivery_reason.set(reason) if reason else MessageItem.delivery_reason.remove())
    if provider_ids:
        merged = list(dict.fromkeys([*message.provider_message_ids, *provider_ids]))
        actions.append(MessageItem.provider_message_ids.set(cast(Any, merged)))
    with Transaction(otherwise=_changed(ticket_id)) as tx:
        tx.update(
            MessageItem(keys.ticket_pk(ticket_id), keys.message_sk(message_id)),
            actions,
            condition=MessageItem.pk.exists(),
            on_conflict=NotFoundError(f'message {message_id} not found'),
        )
        for rfc_id in provider_ids:
            tx.put(_pointer(rfc_id, message))
        if status != 'queued' and message.direction == 'outbound':
            tx.delete(outbox.outbox_item(message))


# ---------------------------------------------------------------- ingestion


@dataclass(frozen=True, slots=True)
class MessagePointer:
    ticket_id: str
    message_id: str  # our id of the message within the ticket


@dataclass(frozen=True, slots=True)
class ThreadLookup:
    pointers: dict[str, MessagePointer]  # rfc id -> where it is stored
    numbered_ticket_id: str | None  # the ticket with the number asked for
    duplicate_of: str | None  # a guard exists: the ticket the mail was already ingested into
    tickets: dict[str, Ticket] = field(default_factory=dict)  # the hinted tickets that exist (may be stale)


def lookup_thread(
    *,
    rfc_ids: Sequence[str],
    ticket_number: int | None,
    guard_keys: Sequence[str],
    ticket_ids: Sequence[str] = (),
) -> ThreadLookup:
    """One BatchGetItem: the pointers of `rfc_ids`, the ticket-number item, the dedupe guards, and the
    tickets `ticket_ids` names (hints: read eventually consistent; writes check their version)."""
    wanted: dict[str, str] = {keys.message_id_pk(m): normalise_rfc_id(m) for m in rfc_ids[:80]}
    request = [(pk, keys.SINGLE_SK) for pk in wanted]
    number_pk = keys.ticket_number_pk(ticket_number) if ticket_number is not None else None
    if number_pk:
        request.append((number_pk, keys.SINGLE_SK))
    request.extend((pk, keys.SINGLE_SK) for pk in guard_keys)
    request.extend((keys.ticket_pk(t), keys.TICKET_SK) for t in ticket_ids[:5])
    pointers: dict[str, MessagePointer] = {}
    found: dict[str, Ticket] = {}
    numbered = duplicate = None
    for item in InboxdeskItem.batch_get(request):
        if isinstance(item, MessageIdItem) and item.pk in wanted:
            message_key = item.message_sk.removeprefix(keys.MESSAGE_SK_PREFIX)
            pointers[wanted[item.pk]] = MessagePointer(ticket_id=item.ticket_id, message_id=message_key)
        elif isinstance(item, TicketNumberItem) and item.pk == number_pk:
            numbered = item.ticket_id
        elif isinstance(item, GuardItem):
            duplicate = item.ticket_id
        elif isinstance(item, TicketItem) and item.sk == keys.TICKET_SK:
            found[item.ticket_id] = _to_ticket(item)
    return ThreadLookup(pointers=pointers, numbered_ticket_id=numbered, duplicate_of=duplicate, tickets=found)


def mail_guards(queue_id: str, rfc_id: str, *, ses_message_id: str | None, bucket: str, key: str) -> list[str]:
    """The guards of one stored mail (pass them to `create_ticket` / `append_message`): its Message-ID in its
    queue, and SES's id of it (or its raw object, for mail that did not come through SES)."""
    return [keys.dedupe_pk(queue_id, rfc_id), keys.source_pk(ses_message_id, bucket, key)]


def _guard(pk: str, message: Message) -> GuardItem:
    return GuardItem(pk, keys.SINGLE_SK, ticket_id=message.ticket_id, message_sk=keys.message_sk(message.id))


def _run_ingest_tx(
    before: Ticket | None,
    after: Ticket,
    message: Message,
    *,
    guard_keys: Sequence[str],
    customer: Participant | None,
    failed_delivery: tuple[MessagePointer, str] | None,
) -> list[str]:
    item, written = _message_item(message)
    duplicate = DuplicateMessageError(message.rfc_id or message.id)
    with mail_store.removing_on_failure(written), Transaction(otherwise=_changed(after.id)) as tx:
        for guard_pk in guard_keys:  # added first: a duplicate wins over any other conflict
            tx.put(_guard(guard_pk, message), condition=GuardItem.pk.does_not_exist(), on_conflict=duplicate)
        _write_ticket(tx, before, after, new_message=True)
        if before is None:
            tx.put(
                TicketNumberItem(keys.ticket_number_pk(after.number), keys.SINGLE_SK, ticket_id=after.id),
                condition=TicketNumberItem.pk.does_not_exist(),
                on_conflict=TicketNumberTakenError(f'ticket number {after.number} is taken'),
            )
        _save_message(tx, item, message)
        if message.rfc_id:
            tx.put(_pointer(message.rfc_id, message))
        if customer is not None and customer.email:
            customer_item, actions = customers.customer_update(
                customer, seen_at=message.created_at, new_ticket=before is None
            )
            tx.update(customer_item, actions)
        if failed_delivery is not None:
            pointer, reason = failed_delivery
            tx.update(
                MessageItem(keys.ticket_pk(pointer.ticket_id), keys.message_sk(pointer.message_id)),
                [MessageItem.delivery_status.set('failed'), MessageItem.delivery_reason.set(reason)],
                condition=MessageItem.pk.exists(),
            )
    return written


def create_ticket(
    ticket: Ticket, message: Message, *, guard_keys: Sequence[str], customer: Participant | None
) -> list[str]:
    """Write a new ticket with its first message, number item, pointers, guards and customer, in one
    transaction. DuplicateMessageError when a guard exists; TicketNumberTakenError when its number
    item exists (take a fresh number); PreconditionFailedError on a write conflict (try again).
    Returns the S3 keys written for a large body."""
    return _run_ingest_tx(None, ticket, message, guard_keys=guard_keys, customer=customer, failed_delivery=None)


def append_message(
    before: Ticket,
    after: Ticket,
    message: Message,
    *,
    guard_keys: Sequence[str],
    customer: Participant | None,
    failed_delivery: tuple[MessagePointer, str] | None = None,
) -> list[str]:
    """Add a message to a ticket read at `before.version`, saving it as `after`, in one transaction
    (optionally marking an outgoing message as failed: bounces). Errors as for `create_ticket`."""
    return _run_ingest_tx(
        before, after, message, guard_keys=guard_keys, customer=customer, failed_delivery=failed_delivery
    )
