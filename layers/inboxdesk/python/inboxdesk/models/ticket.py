"""Tickets, their messages and customers: what the DAL returns (frozen dataclasses, no pydantic on the inbound path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

TICKET_STATUSES: Final = ('new', 'open', 'pending', 'solved', 'closed', 'spam')
PRIORITIES: Final = ('low', 'normal', 'high', 'urgent')
DIRECTIONS: Final = ('inbound', 'outbound', 'note')
THREAD_RULES: Final = ('headers', 'token', 'subject-tag', 'new', 'bounce')
DELIVERY_STATUSES: Final = ('queued', 'sending', 'sent', 'delivered', 'failed', 'bounced', 'complained', 'suppressed')

Direction = Literal['inbound', 'outbound', 'note']


@dataclass(frozen=True, slots=True)
class Participant:
    """A person on a ticket: the customer or a CC."""

    name: str
    email: str

    def to_json(self) -> dict[str, str]:
        return {'name': self.name, 'email': self.email}


@dataclass(frozen=True, slots=True)
class Verdicts:
    """SES's receipt verdicts (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`); None when the mail did not pass SES."""

    spam: str | None = None
    virus: str | None = None
    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None

    @property
    def virus_failed(self) -> bool:
        return self.virus == 'FAIL'

    @property
    def spam_failed(self) -> bool:
        return self.spam == 'FAIL'

    @property
    def dmarc_failed(self) -> bool:
        return self.dmarc == 'FAIL'

    def to_json(self) -> dict[str, str | None]:
        return {'spam': self.spam, 'virus': self.virus, 'spf': self.spf, 'dkim': self.dkim, 'dmarc': self.dmarc}


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    number: int
    title: str
    description: str
    status: str
    queue_id: str
    customer: Participant
    participants: tuple[Participant, ...]  # CCs, never our own addresses
    assignee: str | None
    priority: str
    created_at: str  # ISO 8601 UTC, microseconds: sortable as text
    last_activity_at: str
    message_count: int
    verdicts: Verdicts
    version: int  # optimistic concurrency: pass it back to `update_ticket(expected_version=)`

    @classmethod
    def opened(
        cls,
        *,
        id: str,
        number: int,
        title: str,
        queue_id: str,
        customer: Participant,
        at: str,
        description: str = '',
        status: str = 'new',
        participants: tuple[Participant, ...] = (),
        assignee: str | None = None,
        priority: str = 'normal',
        verdicts: Verdicts | None = None,
    ) -> Ticket:
        """A new ticket with its first message at `at` (version 1)."""
        return cls(
            id=id,
            number=number,
            title=title,
            description=description,
            status=status,
            queue_id=queue_id,
            customer=customer,
            participants=participants,
            assignee=assignee,
            priority=priority,
            created_at=at,
            last_activity_at=at,
            message_count=1,
            verdicts=verdicts or Verdicts(),
            version=1,
        )

    def is_participant(self, email: str) -> bool:
        wanted = email.lower()
        return self.customer.email.lower() == wanted or any(p.email.lower() == wanted for p in self.participants)


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment kept in S3; `s3_key` is None when it was withheld (virus verdict FAIL)."""

    id: str
    filename: str
    content_type: str
    size: int
    content_id: str | None
    inline: bool
    s3_key: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            'id': self.id,
            'filename': self.filename,
            'content_type': self.content_type,
            'size': self.size,
            'content_id': self.content_id,
            'inline': self.inline,
            's3_key': self.s3_key,
        }


@dataclass(frozen=True, slots=True)
class MessageFlags:
    """What kind of automatic mail this is (inbound only)."""

    auto_reply: bool = False
    out_of_office: bool = False
    bounce: bool = False
    mailing_list: bool = False
    unreadable: bool = False

    @property
    def automatic(self) -> bool:
        return self.auto_reply or self.out_of_office or self.bounce or self.mailing_list

    def to_json(self) -> dict[str, bool]:
        return {
            'auto_reply': self.auto_reply,
            'out_of_office': self.out_of_office,
            'bounce': self.bounce,
            'mailing_list': self.mailing_list,
            'unreadable': self.unreadable,
            'automatic': self.automatic,
        }


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    ticket_id: str
    direction: str  # inbound | outbound | note
    sender: Participant | None
    to: tuple[Participant, ...]
    cc: tuple[Participant, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[StoredAttachment, ...]
    created_at: str
    author: str | None = None  # the agent, for outbound messages and notes
    raw_key: str | None = None  # the raw MIME in the mail bucket (inbound)
    message_id: str | None = None  # RFC 5322 Message-ID, without angle brackets
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    provider_message_ids: tuple[str, ...] = ()  # e.g. SES's `<id@region.amazonses.com>` of what we sent
    thread_rule: str | None = None  # headers | token | subject-tag | new | bounce
    flags: MessageFlags = field(default_factory=MessageFlags)
    attachments_withheld: bool = False
    delivery_status: str | None = None  # outbound: queued | sent | failed
    delivery_reason: str | None = None
    verdicts: Verdicts = field(default_factory=Verdicts)


@dataclass(frozen=True, slots=True)
class ReplyJob:
    """The outbound queue's payload: send outbound message `message_id` of `ticket_id` (queued)."""

    ticket_id: str
    message_id: str
    rfc_message_id: str

    def to_json(self) -> dict[str, str]:
        return {
            'type': 'reply',
            'ticket_id': self.ticket_id,
            'message_id': self.message_id,
            'rfc_message_id': self.rfc_message_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReplyJob:
        """KeyError or TypeError when the payload is not a reply job."""
        if data.get('type') != 'reply':
            raise TypeError(f'not a reply job: {data.get("type")!r}')
        return cls(str(data['ticket_id']), str(data['message_id']), str(data['rfc_message_id']))


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    name: str
    first_seen: str
    last_seen: str
    ticket_count: int
