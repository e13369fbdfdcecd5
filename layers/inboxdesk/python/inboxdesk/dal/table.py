"""The single DynamoDB table, as PynamoDB items. Items never leave `inboxdesk.dal`.

Key map (strings built only in `dal.keys`; `<t>` ticket id, `<q>` queue id, times ISO 8601 UTC):

| item | pk | sk | indexes |
| --- | --- | --- | --- |
| ticket | `TICKET#<t>` | `TICKET` | gsi1..gsi5, see the filters below |
| ticket list copy | `TICKET#<t>` | `TICKET#LIST` | gsi1, gsi4, gsi5, see the filters below |
| message | `TICKET#<t>` | `MSG#<message id>` (time-ordered ids) | |
| send claim (reply sender) | `TICKET#<t>` | `SEND#<message id>` | |
| ticket number | `NUMBER#<n>` | `#` | |
| Message-ID pointer | `MSGID#<message-id>` | `#` | |
| dedupe guard | `DEDUP#<q>#<message-id>` | `#` | |
| source guard | `SESID#<ses message id>` or `RAW#<bucket>/<key>` | `#` | |
| feedback guard (SES event applied) | `FEEDBACK#<event id>` | `#` | |
| queue | `QUEUE#<q>` | `QUEUE` | gsi1 `QUEUES` / `<name>#<q>` |
| inbound address | `ADDRESS#<address>` | `#` | |
| default queue pointer | `DEFAULTQUEUE` | `#` | |
| customer | `CUSTOMER#<email>` | `#` | |
| ticket counter | `COUNTER#ticket` | `#` | |
| outbox entry | `OUTBOX` | `<created>#<t>#<message id>` (oldest first) | |
| setting | `SETTINGS` | `OUTGOING_FILTER` or `APPEARANCE` | |
| upload (reply attachment) | `UPLOAD#<upload id>` | `UPLOAD` | |
| outbound channel | `CHANNEL#<c>` | `CHANNEL` | gsi1 `CHANNELS` / `<created>#<c>` |
| undeliverable address | `SUPPRESSED#<address>` | `#` | |
| automatic mail sent (rate limits) | `RATE#<address>` | `<sent>#<unique>` (expires) | |

Every ticket index sorts on `gsiNsk = <last_activity_at>#<t>` and is read backwards, so each list
filter is one Query, newest activity first, with no filter after the read:

| filter | index | partition | on |
| --- | --- | --- | --- |
| none | gsi1 | `TICKETS` | list copy |
| queue | gsi1 | `QUEUE#<q>` | ticket |
| queue + status | gsi2 | `QUEUE#<q>#STATUS#<s>` | ticket |
| status | gsi3 | `STATUS#<s>` | ticket |
| assignee | gsi4 | `ASSIGNEE#<a>` (assigned tickets only) | ticket |
| assignee + status | gsi4 | `ASSIGNEE#<a>#STATUS#<s>` (assigned tickets only) | list copy |
| customer | gsi5 | `CUSTOMER#<email>` | ticket |
| customer + status | gsi5 | `CUSTOMER#<email>#STATUS#<s>` | list copy |

A ticket is written as two items (the ticket and its list copy, the same attributes) in one
transaction: a change of its fields with the condition `version = <the version read>`, a new message as
`ADD message_count` and, when later, `SET last_activity_at` and every `gsiNsk` on the condition that the
stored time is earlier (`dal.tickets._write_ticket`). A queued outbound message
is written in one transaction with its outbox entry, which is deleted once its job is on the queue.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from inboxdesk import resources
from inboxdesk.errors import InboxdeskError, StorageRefusedError

_DEFAULT_TABLE = resources.LOCAL_NAMES[resources.ENV_TABLE]


def _index(name: str) -> GlobalSecondaryIndex[Any]:
    """One overloaded index `<name>` on `<name>pk` / `<name>sk`, every attribute projected."""
    meta = type('Meta', (), {'index_name': name, 'projection': AllProjection()})
    attributes = {
        'Meta': meta,
        f'{name}pk': UnicodeAttribute(hash_key=True),
        f'{name}sk': UnicodeAttribute(range_key=True),
    }
    index_class = type(f'Index_{name}', (GlobalSecondaryIndex,), attributes)
    return cast('GlobalSecondaryIndex[Any]', index_class())


class InboxdeskItem(Model):
    """Base of every item; the `entity` discriminator picks the subclass when reading."""

    class Meta:
        table_name = os.environ.get(resources.ENV_TABLE, _DEFAULT_TABLE)  # read once, when the class is created
        # No `host`: botocore follows AWS_ENDPOINT_URL (the embedded AWS) or the real endpoint.

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    gsi5pk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)

    gsi1, gsi2, gsi3, gsi4, gsi5 = (_index(name) for name in resources.TABLE_INDEXES)


class TicketItem(InboxdeskItem, discriminator='ticket'):
    ticket_id = UnicodeAttribute()
    number = NumberAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default='')
    status = UnicodeAttribute()
    queue_id = UnicodeAttribute()
    customer_name = UnicodeAttribute(default='')
    customer_email = UnicodeAttribute()
    participants = JSONAttribute(default=list)  # [{name, email}]
    assignee = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(default='normal')
    created_at = UnicodeAttribute()
    last_activity_at = UnicodeAttribute()
    message_count = NumberAttribute(default=0)
    verdicts = JSONAttribute(default=dict)
    version = NumberAttribute(default=1)  # managed by hand: conditions are explicit in every write


class MessageItem(InboxdeskItem, discriminator='message'):
    message_key = UnicodeAttribute()  # our id of the message
    ticket_id = UnicodeAttribute()
    direction = UnicodeAttribute()
    sender = JSONAttribute(null=True)
    to = JSONAttribute(default=list)
    cc = JSONAttribute(default=list)
    subject = UnicodeAttribute(default='')
    text = UnicodeAttribute(null=True)  # absent when the body lives in S3
    html = UnicodeAttribute(null=True)
    body_key = UnicodeAttribute(null=True)  # S3 key of {"text", "html"} when over the inline limit
    attachments = JSONAttribute(default=list)  # the first MAX_ATTACHMENT_ENTRIES; all of them in the manifest
    attachment_manifest = UnicodeAttribute(null=True)  # S3 key of the full list when there are more
    created_at = UnicodeAttribute()
    author = UnicodeAttribute(null=True)
    raw_key = UnicodeAttribute(null=True)
    rfc_id = UnicodeAttribute(null=True, attr_name='rfc_message_id')  # stored under its first name
    in_reply_to = UnicodeAttribute(null=True)
    references = ListAttribute(of=UnicodeAttribute, default=list)
    provider_message_ids = ListAttribute(of=UnicodeAttribute, default=list)
    thread_rule = UnicodeAttribute(null=True)
    flags = JSONAttribute(default=dict)
    attachments_withheld = BooleanAttribute(default=False)
    delivery_status = UnicodeAttribute(null=True)
    delivery_reason = UnicodeAttribute(null=True)
    verdicts = JSONAttribute(default=dict)


class TicketNumberItem(InboxdeskItem, discriminator='ticket_number'):
    ticket_id = UnicodeAttribute()


class MessageIdItem(InboxdeskItem, discriminator='message_id'):
    """Threading pointer: a Message-ID -> the ticket and message that carry it."""

    ticket_id = UnicodeAttribute()
    message_sk = UnicodeAttribute()


class GuardItem(InboxdeskItem, discriminator='guard'):
    """De-duplication guard (conditional put): the mail was already ingested into `ticket_id`."""

    ticket_id = UnicodeAttribute()
    message_sk = UnicodeAttribute()


class QueueItem(InboxdeskItem, discriminator='queue'):
    queue_id = UnicodeAttribute()
    name = UnicodeAttribute()
    colour = UnicodeAttribute()
    inbound_addresses = ListAttribute(of=UnicodeAttribute, default=list)
    is_default = BooleanAttribute(default=False)
    reply_via = UnicodeAttribute(null=True)
    auto_ack_enabled = BooleanAttribute(default=False)
    auto_ack_template = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class AddressItem(InboxdeskItem, discriminator='address'):
    address = UnicodeAttribute()
    queue_id = UnicodeAttribute()


class DefaultQueueItem(InboxdeskItem, discriminator='default_queue'):
    queue_id = UnicodeAttribute()


class CustomerItem(InboxdeskItem, discriminator='customer'):
    email = UnicodeAttribute()
    name = UnicodeAttribute(default='')
    first_seen = UnicodeAttribute()
    last_seen = UnicodeAttribute()
    ticket_count = NumberAttribute(default=0)


class CounterItem(InboxdeskItem, discriminator='counter'):
    value = NumberAttribute(default=0)


class OutboxItem(InboxdeskItem, discriminator='outbox'):
    """A queued outbound message whose job is not yet on the outbound queue (`dal.outbox`)."""

    ticket_id = UnicodeAttribute()
    message_id = UnicodeAttribute()  # our id of the message
    rfc_id = UnicodeAttribute(attr_name='rfc_message_id')  # stored under its first name
    created_at = UnicodeAttribute()


class SettingItem(InboxdeskItem, discriminator='setting'):
    """A small settings document (`dal.settings`) with its own optimistic version."""

    data = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)  # managed by hand, like the ticket's
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class UploadItem(InboxdeskItem, discriminator='upload'):
    """An attachment an agent uploads for a reply (`dal.attachments`); the bytes are in the mail bucket."""

    upload_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    s3_key = UnicodeAttribute()
    uploaded_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class ChannelItem(InboxdeskItem, discriminator='channel'):
    """An outbound channel (`dal.channels`). An smtp channel's password is in Secrets Manager (`secret_name`)."""

    channel_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    from_address = UnicodeAttribute()
    display_name = UnicodeAttribute(default='')
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    smtp_host = UnicodeAttribute(null=True)
    smtp_port = NumberAttribute(null=True)
    smtp_tls_mode = UnicodeAttribute(null=True)
    smtp_username = UnicodeAttribute(null=True)
    secret_name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class SuppressedAddressItem(InboxdeskItem, discriminator='suppressed_address'):
    """An address automatic mail no longer goes to, after a permanent bounce or a complaint (`dal.suppressions`)."""

    address = UnicodeAttribute()
    reason = UnicodeAttribute()  # bounce | complaint
    detail = UnicodeAttribute(default='')
    recorded_at = UnicodeAttribute()


class RateMarkItem(InboxdeskItem, discriminator='rate_mark'):
    """One automatic mail sent to a recipient (`dal.rate_limits`); DynamoDB drops it after the longest window."""

    ticket_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    expires_at = NumberAttribute()  # resources.TABLE_TTL_ATTRIBUTE


class SendClaimItem(InboxdeskItem, discriminator='send_claim'):
    """The reply sender's claim on an outbound message (`dal.sending`): who is sending it, whether the mail
    was handed to the provider, and how it ended."""

    attempt_id = UnicodeAttribute()
    lease_until = UnicodeAttribute()  # ISO time: after it, a claim that never handed over may be taken over
    handed_over_at = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)  # sent | failed | suppressed
    provider_id = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)


_connection: Connection | None = None


def connection() -> Connection:
    """The one Connection transactions need (PynamoDB 6 requires it explicitly); created lazily, once."""
    global _connection
    if _connection is None:
        _connection = Connection()
    return _connection


class Transaction:
    """One TransactWriteItems whose parts name the error their failed condition means.

    `tx.put(guard, condition=..., on_conflict=DuplicateMessageError(...))`: when DynamoDB cancels the
    transaction, the error of the earliest added part whose condition failed is raised; `otherwise(exc)`
    when none of those failed (a part without `on_conflict`, or a concurrent transaction). PynamoDB sends
    deletes, then puts, then updates, whatever the order they were added: the parts are matched to
    DynamoDB's cancellation reasons in that order, never by the caller counting positions.
    """

    def __init__(self, otherwise: Callable[[TransactWriteError], InboxdeskError]) -> None:
        self._tx = TransactWrite(connection=connection())
        self._parts: dict[str, list[tuple[int, InboxdeskError | None]]] = {'delete': [], 'put': [], 'update': []}
        self._added = 0
        self._otherwise = otherwise

    def _label(self, kind: str, on_conflict: InboxdeskError | None) -> None:
        self._parts[kind].append((self._added, on_conflict))
        self._added += 1

    def put(self, item: Model, *, condition: Any = None, on_conflict: InboxdeskError | None = None) -> None:
        self._tx.save(item, condition=condition)
        self._label('put', on_conflict)

    def update(
        self, item: Model, actions: list[Any], *, condition: Any = None, on_conflict: InboxdeskError | None = None
    ) -> None:
        self._tx.update(item, actions=actions, condition=condition)
        self._label('update', on_conflict)

    def delete(self, item: Model, *, condition: Any = None, on_conflict: InboxdeskError | None = None) -> None:
        self._tx.delete(item, condition=condition)
        self._label('delete', on_conflict)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is not None:
            return
        try:
            self._tx._commit()  # what `with TransactWrite()` runs on exit
        except TransactWriteError as cancelled:
            reasons = [reason.code for reason in cancelled.cancellation_reasons or [] if reason is not None]
            if cancelled.cause_response_code == 'ValidationException' or 'ValidationError' in reasons:
                # An item over 400 KB or an attribute DynamoDB cannot store: no retry makes it fit.
                raise StorageRefusedError(
                    cancelled.cause_response_message or 'the table refused the write'
                ) from cancelled
            if cancelled.cause_response_code != 'TransactionCanceledException':
                raise  # throttling or a service error: the caller's retry (SQS, the client) may succeed
            sent = self._parts['delete'] + self._parts['put'] + self._parts['update']
            failed = [
                (added, error)
                for (added, error), reason in zip(sent, cancelled.cancellation_reasons or [], strict=False)
                if error is not None and reason is not None and reason.code == 'ConditionalCheckFailed'
            ]
            if failed:
                raise min(failed, key=lambda part: part[0])[1] from cancelled
            raise self._otherwise(cancelled) from cancelled


__all__ = [
    'AddressItem',
    'ChannelItem',
    'CounterItem',
    'CustomerItem',
    'DefaultQueueItem',
    'GuardItem',
    'InboxdeskItem',
    'MessageIdItem',
    'MessageItem',
    'OutboxItem',
    'PynamoDBException',
    'QueueItem',
    'RateMarkItem',
    'SendClaimItem',
    'SettingItem',
    'SuppressedAddressItem',
    'TicketItem',
    'TicketNumberItem',
    'Transaction',
    'TransactWriteError',
    'UploadItem',
    'connection',
]
