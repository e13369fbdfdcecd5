"""Every key string of the single table is built here, and only here (the map is in `dal.table`)."""

from __future__ import annotations

import hashlib
from typing import Final

from inboxdesk.ids import normalise_address, normalise_rfc_id

TICKET_SK: Final = 'TICKET'
TICKET_LIST_SK: Final = 'TICKET#LIST'
MESSAGE_SK_PREFIX: Final = 'MSG#'
QUEUE_SK: Final = 'QUEUE'
ALL_QUEUES: Final = 'QUEUES'
ALL_TICKETS: Final = 'TICKETS'
DEFAULT_QUEUE_PK: Final = 'DEFAULTQUEUE'
TICKET_COUNTER_PK: Final = 'COUNTER#ticket'
SINGLE_SK: Final = '#'  # the sort key of items that are alone in their partition
OUTBOX_PK: Final = 'OUTBOX'
SETTINGS_PK: Final = 'SETTINGS'
OUTGOING_FILTER_SK: Final = 'OUTGOING_FILTER'
APPEARANCE_SK: Final = 'APPEARANCE'
UPLOAD_SK: Final = 'UPLOAD'

_MAX_KEY_PART: Final = 512  # DynamoDB allows 2048 bytes for a partition key; Message-IDs can be longer


def _part(value: str) -> str:
    """A key component: long values are replaced by their sha256 so every key fits DynamoDB's limits."""
    if len(value.encode('utf-8')) <= _MAX_KEY_PART:
        return value
    return 'sha256:' + hashlib.sha256(value.encode('utf-8')).hexdigest()


def ticket_pk(ticket_id: str) -> str:
    return f'TICKET#{ticket_id}'


def message_sk(message_id: str) -> str:
    """Message ids are time-ordered (`ids.new_id`), so the partition reads in arrival order."""
    return f'{MESSAGE_SK_PREFIX}{message_id}'


def ticket_number_pk(number: int) -> str:
    return f'NUMBER#{number}'


def queue_pk(queue_id: str) -> str:
    return f'QUEUE#{queue_id}'


def queue_status(queue_id: str, status: str) -> str:
    return f'QUEUE#{queue_id}#STATUS#{status}'


def status_key(status: str) -> str:
    return f'STATUS#{status}'


def assignee_key(assignee: str) -> str:
    return f'ASSIGNEE#{assignee.lower()}'


def assignee_status(assignee: str, status: str) -> str:
    return f'ASSIGNEE#{assignee.lower()}#STATUS#{status}'


def customer_key(email: str) -> str:
    return f'CUSTOMER#{_part(email.lower())}'


def customer_status(email: str, status: str) -> str:
    return f'CUSTOMER#{_part(email.lower())}#STATUS#{status}'


def activity_sk(last_activity_at: str, ticket_id: str) -> str:
    """Sort key of every ticket index: newest activity last (queries read it backwards)."""
    return f'{last_activity_at}#{ticket_id}'


def queue_list_sk(name: str, queue_id: str) -> str:
    return f'{name.lower()}#{queue_id}'


def address_pk(address: str) -> str:
    return f'ADDRESS#{_part(normalise_address(address))}'


def message_id_pk(message_id: str) -> str:
    """The threading pointer: any Message-ID we stored or sent -> its ticket and message."""
    return f'MSGID#{_part(normalise_rfc_id(message_id))}'


def dedupe_pk(queue_id: str, message_id: str) -> str:
    """The de-duplication guard of one mail in one queue (conditional put)."""
    return f'DEDUP#{queue_id}#{_part(normalise_rfc_id(message_id))}'


def source_pk(ses_message_id: str | None, bucket: str, key: str) -> str:
    """The second guard: SES's own message id, or the raw object for mail that did not come through SES."""
    if ses_message_id:
        return f'SESID#{_part(ses_message_id)}'
    return f'RAW#{_part(f"{bucket}/{key}")}'


def outbox_sk(created_at: str, ticket_id: str, message_id: str) -> str:
    """An outbound message waiting for its job to reach the outbound queue; oldest first."""
    return f'{created_at}#{ticket_id}#{message_id}'


def upload_pk(upload_id: str) -> str:
    return f'UPLOAD#{upload_id}'


CHANNEL_SK: Final = 'CHANNEL'
ALL_CHANNELS: Final = 'CHANNELS'


def channel_pk(channel_id: str) -> str:
    return f'CHANNEL#{channel_id}'


def suppressed_pk(address: str) -> str:
    """An address marked undeliverable (permanent bounce, complaint); `address` already normalised."""
    return f'SUPPRESSED#{_part(address)}'


def rate_pk(address: str) -> str:
    """The automatic mail sent to one recipient (`address` already normalised), one item per mail."""
    return f'RATE#{_part(address)}'


def rate_sk(sent_at: str, unique: str) -> str:
    """Time first, so the recent sends are one Query on `sk >= <window start>`."""
    return f'{sent_at}#{unique}'


def feedback_guard_pk(event_id: str) -> str:
    """The guard that makes applying one provider event (SES feedback) idempotent."""
    return f'FEEDBACK#{_part(event_id)}'


def send_claim_sk(message_id: str) -> str:
    """The sender's claim on one outbound message, beside it in the ticket's partition."""
    return f'SEND#{message_id}'
