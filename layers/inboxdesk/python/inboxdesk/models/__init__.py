"""Domain models: frozen dataclasses the DAL returns and the logic works on (no pydantic: cold start)."""

from inboxdesk.models.channel import CHANNEL_KINDS, Channel, ChannelKind, SmtpEndpoint
from inboxdesk.models.notice import InboundNotice, IngestOutcome, OutcomeKind
from inboxdesk.models.queue import Queue
from inboxdesk.models.ticket import (
    DELIVERY_STATUSES,
    DIRECTIONS,
    PRIORITIES,
    THREAD_RULES,
    TICKET_STATUSES,
    Customer,
    Message,
    MessageFlags,
    Participant,
    ReplyJob,
    StoredAttachment,
    Ticket,
    Verdicts,
)

__all__ = [
    'CHANNEL_KINDS',
    'Channel',
    'ChannelKind',
    'SmtpEndpoint',
    'DELIVERY_STATUSES',
    'DIRECTIONS',
    'PRIORITIES',
    'THREAD_RULES',
    'TICKET_STATUSES',
    'Customer',
    'InboundNotice',
    'IngestOutcome',
    'Message',
    'MessageFlags',
    'OutcomeKind',
    'Participant',
    'Queue',
    'ReplyJob',
    'StoredAttachment',
    'Ticket',
    'Verdicts',
]
