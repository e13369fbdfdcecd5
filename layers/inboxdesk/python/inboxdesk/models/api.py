"""The API's request and response bodies (pydantic). The OpenAPI document is generated from these.

Requests forbid unknown fields, so a typo is a 422 rather than a silently ignored change.
Responses never carry secrets: there is no field for one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from inboxdesk.ids import strip_controls
from inboxdesk.models import queue as domain_queue
from inboxdesk.models import ticket as domain
from inboxdesk.models.vocabulary import DeliveryStatus, Direction, FilterSource, Priority, ThreadRule, TicketStatus
from inboxdesk.names import DEFAULT_QUEUE_COLOUR


def _single_line(value: object) -> object:
    """Refuses CR, LF and NUL before any whitespace is stripped: the field may become part of a mail header."""
    if isinstance(value, str) and any(c in value for c in '\r\n\x00'):
        raise ValueError('must not contain line breaks (CR, LF) or NUL')
    return value


# Text that may end up in a mail header (a subject, a display name, a filename): one line, and stored without
# the control characters and bidirectional overrides `ids.strip_controls` removes.
HeaderText = Annotated[str, BeforeValidator(_single_line), AfterValidator(strip_controls)]

EmailAddress = Annotated[
    str,
    BeforeValidator(_single_line),
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=r'^[^@\s<>(),;:"\[\]]+@[^@\s<>(),;:"\[\]]+\.[^@\s<>(),;:"\[\]]+$',
    ),
]
HexColour = Annotated[str, StringConstraints(pattern=r'^#[0-9a-fA-F]{6}$')]
ShortText = Annotated[HeaderText, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Identifier = Annotated[str, StringConstraints(pattern=r'^[A-Za-z0-9_-]{1,64}$')]


class _Model(BaseModel):
    """Validators are built on first use, not at import: a cold start builds only what its request needs.

    Responses are read from the domain objects by attribute (`from_attributes`): a field named as the
    domain object's is copied without a mapper."""

    model_config = ConfigDict(defer_build=True, from_attributes=True)


class _Request(_Model):
    model_config = ConfigDict(extra='forbid')  # defer_build is inherited


class Problem(_Model):
    """RFC 9457 problem details, served as `application/problem+json`."""

    type: str = Field(description='URI reference naming the kind of problem')
    title: str
    status: int
    detail: str = Field(description='what went wrong and what to do about it')
    instance: str | None = None
    errors: list[dict[str, object]] | None = Field(default=None, description='one entry per invalid field (422)')


class Health(_Model):
    status: Literal['ok']
    service: str


class Person(_Model):
    email: str
    name: str = ''


# --- tickets and messages ---------------------------------------------------------------------


class TicketResource(_Model):
    id: str
    number: int
    title: str
    status: TicketStatus
    priority: Priority
    queue_id: str
    assignee: str | None = None
    customer: Person
    created_at: datetime
    last_activity_at: datetime
    message_count: int = 0
    version: int = Field(description='send it back in If-Match to change the ticket')


class TicketPage(_Model):
    items: list[TicketResource]
    next_cursor: str | None = Field(description='pass as `cursor` for the next page; null on the last page')


class TicketPatch(_Request):
    status: TicketStatus | None = None
    assignee: EmailAddress | None = None
    priority: Priority | None = None
    queue_id: Identifier | None = None
    title: ShortText | None = None

    @model_validator(mode='after')
    def _not_empty(self) -> TicketPatch:
        if not self.model_fields_set:
            raise ValueError('give at least one of status, assignee, priority, queue_id, title')
        return self


class AttachmentLink(_Model):
    id: str
    filename: str
    content_type: str
    size: int
    inline: bool = False
    content_id: str | None = None
    download_url: str | None = Field(
        description='GET it (with your token) to be redirected to a short-lived download; null when withheld'
    )


class MessageResource(_Model):
    id: str
    ticket_id: str
    direction: Direction
    author: Person | None = None
    to: list[Person] = []
    cc: list[Person] = []
    subject: str = ''
    text: str = ''
    html: str = Field('', description='sanitised HTML: no scripts, no remote content handlers')
    attachments: list[AttachmentLink] = []
    created_at: datetime
    threading_rule: ThreadRule | None = Field(None, description='which rule put an inbound message into this ticket')
    is_automatic: bool = False
    is_bounce: bool = False
    delivery_status: DeliveryStatus | None = None
    delivery_reason: str | None = None

    @classmethod
    def of(cls, message: domain.Message) -> MessageResource:
        """The fields named as the message's are copied; the rest say what the agent sees."""
        base = f'/tickets/{message.ticket_id}/messages/{message.id}/attachments/'
        author = Person(email=message.author) if message.author else message.sender
        return cls.model_validate(
            {
                **_fields_of(message, cls),
                'author': author,
                'attachments': [
                    {**_fields_of(a, AttachmentLink), 'download_url': base + a.id if a.s3_key else None}
                    for a in message.attachments
                ],
                'threading_rule': message.thread_rule,
                'is_automatic': message.flags.automatic,
                'is_bounce': message.flags.bounce,
            }
        )


def _fields_of(source: object, model: type[BaseModel]) -> dict[str, object]:
    """The attributes of `source` that `model` has a field of the same name for."""
    return {name: getattr(source, name) for name in model.model_fields if hasattr(source, name)}


class MessageList(_Model):
    items: list[MessageResource]


class _Body(_Request):
    text: Annotated[str, StringConstraints(max_length=200_000)] | None = None
    html: Annotated[str, StringConstraints(max_length=500_000)] | None = None

    @model_validator(mode='after')
    def _has_body(self) -> _Body:
        if not (self.text or '').strip() and not (self.html or '').strip():
            raise ValueError('give text, html or both')
        return self


class ReplyRequest(_Body):
    cc: Annotated[list[EmailAddress], Field(max_length=50)] = []
    attachment_ids: Annotated[list[Identifier], Field(max_length=20)] = []


class NoteRequest(_Body):
    pass


class NewTicketRequest(_Body):
    customer: EmailAddress
    customer_name: Annotated[HeaderText, StringConstraints(strip_whitespace=True, max_length=200)] = ''
    title: ShortText
    queue_id: Identifier | None = Field(None, description='defaults to the default queue')
    priority: Priority = 'normal'
    cc: Annotated[list[EmailAddress], Field(max_length=50)] = []
    attachment_ids: Annotated[list[Identifier], Field(max_length=20)] = []


class Created(_Model):
    ticket: TicketResource
    message: MessageResource


# --- queues -----------------------------------------------------------------------------------


class AutoAcknowledge(_Model):
    model_config = ConfigDict(extra='forbid')  # defer_build is inherited
    enabled: bool = False
    template: Annotated[str, StringConstraints(max_length=20_000)] | None = Field(
        None, description='the acknowledgement text; the default text when empty'
    )


class QueueResource(_Model):
    id: str
    name: str
    colour: str
    inbound_addresses: list[str]
    is_default: bool
    reply_via: str | None = Field(None, description='the outbound channel replies leave through')
    auto_acknowledge: AutoAcknowledge
    created_at: str = ''

    @classmethod
    def of(cls, queue: domain_queue.Queue) -> QueueResource:
        ack = AutoAcknowledge(enabled=queue.auto_ack_enabled, template=queue.auto_ack_template)
        return cls.model_validate({**_fields_of(queue, cls), 'auto_acknowledge': ack})


class QueueList(_Model):
    items: list[QueueResource]
    next_cursor: str | None = None


class QueueCreate(_Request):
    name: ShortText
    colour: HexColour = DEFAULT_QUEUE_COLOUR
    inbound_addresses: Annotated[list[EmailAddress], Field(max_length=50)] = []
    is_default: bool = False
    reply_via: Identifier | None = Field(None, description='the id of the outbound channel; unset: SES')
    auto_acknowledge: AutoAcknowledge = AutoAcknowledge()


class QueuePatch(_Request):
    name: ShortText | None = None
    colour: HexColour | None = None
    inbound_addresses: Annotated[list[EmailAddress], Field(max_length=50)] | None = None
    is_default: bool | None = None
    reply_via: Identifier | None = Field(None, description='the id of the outbound channel; unset: SES')
    auto_acknowledge: AutoAcknowledge | None = None


# --- settings ---------------------------------------------------------------------------------


class FilterEntryResource(_Model):
    address: str
    source: FilterSource
    removable: bool
    used_by: list[str] = Field([], description='the queues or mailboxes that keep this address in the filter')


class OutgoingFilter(_Model):
    entries: list[FilterEntryResource]


class OutgoingFilterUpdate(_Request):
    addresses: Annotated[
        list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]],
        Field(max_length=1000),
    ] = Field(
        description='the full list of addresses and whole domains (`@example.com`; no other wildcards); '
        'inbound addresses and connected mailboxes must stay in it'
    )


class Appearance(_Model):
    model_config = ConfigDict(extra='forbid')  # defer_build is inherited
    signature_text: Annotated[str, StringConstraints(max_length=5000)] = ''
    signature_html: Annotated[str, StringConstraints(max_length=20_000)] = ''
    primary_colour: HexColour = '#4f46e5'
    accent_colour: HexColour = '#111827'
    logo_url: Annotated[str, StringConstraints(max_length=2000, pattern=r'^https://[^\s"<>]+$')] | None = None


# --- attachments and customers ----------------------------------------------------------------


class UploadRequest(_Request):
    filename: Annotated[HeaderText, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    content_type: Annotated[HeaderText, StringConstraints(strip_whitespace=True, to_lower=True, max_length=127)]
    size: int = Field(gt=0, description='bytes; the upload must be exactly this long')


class Upload(_Model):
    id: str
    upload_url: str
    method: Literal['PUT']
    headers: dict[str, str] = Field(description='send exactly these headers with the upload')
    expires_in: int
    max_size: int


class CustomerResource(_Model):
    email: str
    name: str = ''
    created_at: datetime | None = None
    ticket_count: int | None = None

    @classmethod
    def of(cls, customer: domain.Customer) -> CustomerResource:
        return cls.model_validate({**_fields_of(customer, cls), 'created_at': customer.first_seen})


class CustomerList(_Model):
    items: list[CustomerResource]
