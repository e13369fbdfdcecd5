"""What arrives with a stored raw mail: the SES receipt notice or a poller's job, reduced to what ingestion needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from inboxdesk.models.ticket import Verdicts
from inboxdesk.models.vocabulary import ThreadRule


@dataclass(frozen=True, slots=True)
class InboundNotice:
    source: Literal['ses', 'mailbox']
    bucket: str
    key: str
    ses_message_id: str | None = None  # SES's own id (also the last part of the raw object key)
    recipients: tuple[str, ...] = ()  # envelope recipients SES accepted for us
    verdicts: Verdicts = field(default_factory=Verdicts)
    mailbox_id: str | None = None  # poller jobs: the mailbox the mail was fetched from
    timestamp: str | None = None


OutcomeKind = Literal['created', 'appended', 'duplicate', 'loop_dropped', 'bounce_linked', 'skipped']


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to one stored mail; the inbound handler logs and counts it."""

    kind: OutcomeKind
    ticket_id: str | None = None
    ticket_number: int | None = None
    queue_id: str | None = None
    queue_name: str | None = None
    thread_rule: ThreadRule | None = None
    message_id: str | None = None  # our message id within the ticket
    reason: str | None = None  # loop_dropped / skipped: why
