"""Tickets and their conversations: list, read, change (If-Match), reply, note, open for a customer."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from inboxdesk.logic import tickets_api as logic
from inboxdesk.models import Message as StoredMessage
from inboxdesk.models import Participant
from inboxdesk.models import Ticket as StoredTicket
from inboxdesk.models.api import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AttachmentLink,
    Created,
    EmailAddress,
    Identifier,
    Message,
    MessageList,
    NewTicketRequest,
    NoteRequest,
    Person,
    ReplyRequest,
    Ticket,
    TicketPage,
    TicketPatch,
    TicketStatus,
)

from ..access import AGENTS, actor
from ..etag import etag, parse_if_match
from ..problems import responses
from .attachments import REDIRECT_HEADERS

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped
TicketId = Annotated[str, Path(pattern=r'^[A-Za-z0-9_-]{1,64}$')]


def _person(p: Participant) -> Person:
    return Person(email=p.email, name=p.name)


def ticket_to_api(ticket: StoredTicket) -> Ticket:
    return Ticket(
        id=ticket.id,
        number=ticket.number,
        title=ticket.title,
        status=ticket.status,
        priority=ticket.priority,
        queue_id=ticket.queue_id,
        assignee=ticket.assignee,
        customer=_person(ticket.customer),
        created_at=ticket.created_at,
        last_activity_at=ticket.last_activity_at,
        message_count=ticket.message_count,
        version=ticket.version,
    )


def message_to_api(m: StoredMessage) -> Message:
    base = f'/tickets/{m.ticket_id}/messages/{m.id}/attachments/'
    author = Person(email=m.author) if m.author else (_person(m.sender) if m.sender else None)
    return Message(
        id=m.id,
        ticket_id=m.ticket_id,
        direction=m.direction,
        author=author,
        to=[_person(p) for p in m.to],
        cc=[_person(p) for p in m.cc],
        subject=m.subject,
        text=m.text,
        html=logic.sanitise_html(m.html),
        attachments=[
            AttachmentLink(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                inline=a.inline,
                content_id=a.content_id,
                download_url=base + a.id if a.s3_key else None,
            )
            for a in m.attachments
        ],
        created_at=m.created_at,
        threading_rule=m.thread_rule,
        is_automatic=m.flags.automatic,
        is_bounce=m.flags.bounce,
        delivery_status=m.delivery_status,
        delivery_reason=m.delivery_reason,
    )


def _with_etag(ticket: StoredTicket, status: int = 200) -> Response[Ticket]:
    return Response(status, 'application/json', ticket_to_api(ticket), headers={'ETag': etag(ticket.version)})


@router.get('/tickets', security=AGENTS, tags=['tickets'], responses=responses())
def list_tickets(
    queue: Annotated[Identifier | None, Query(description='queue id')] = None,
    status: Annotated[TicketStatus | None, Query()] = None,
    assignee: Annotated[EmailAddress | None, Query()] = None,
    customer: Annotated[EmailAddress | None, Query(description="the customer's email address")] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description='from the previous page')] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> TicketPage:
    """Newest activity first. Filter by one of queue, assignee or customer, each with or without status."""
    items, next_cursor = logic.list_tickets(
        queue=queue, status=status, assignee=assignee, customer=customer, cursor=cursor, limit=limit
    )
    return TicketPage(items=[ticket_to_api(t) for t in items], next_cursor=next_cursor)


@router.post('/tickets', security=AGENTS, tags=['tickets'], responses=responses(404))
def create_ticket(request: NewTicketRequest) -> Response[Created]:
    """Open a ticket on a customer's behalf; its first message is emailed to them (queued)."""
    ticket, message = logic.open_ticket(
        author=actor(router),
        customer=Participant(name=request.customer_name, email=request.customer),
        title=request.title,
        queue_id=request.queue_id,
        priority=request.priority,
        text=request.text or '',
        html=request.html or '',
        cc=list(request.cc),
        attachment_ids=list(request.attachment_ids),
    )
    body = Created(ticket=ticket_to_api(ticket), message=message_to_api(message))
    return Response(
        201,
        'application/json',
        body,
        headers={'Location': f'/tickets/{ticket.id}', 'ETag': etag(ticket.version)},
    )


@router.get('/tickets/by-number/<number>', security=AGENTS, tags=['tickets'], responses=responses(404))
def get_ticket_by_number(number: Annotated[int, Path(ge=1, le=10**12)]) -> Response[Ticket]:
    """The ticket with this human number (`#1042` is 1042)."""
    return _with_etag(logic.get_ticket_by_number(number))


@router.get('/tickets/<ticket_id>', security=AGENTS, tags=['tickets'], responses=responses(404))
def get_ticket(ticket_id: TicketId) -> Response[Ticket]:
    """The ticket; its ETag is the version to send in If-Match."""
    return _with_etag(logic.get_ticket(ticket_id))


@router.patch('/tickets/<ticket_id>', security=AGENTS, tags=['tickets'], responses=responses(404, 412, 428))
def update_ticket(
    ticket_id: TicketId,
    changes: TicketPatch,
    if_match: Annotated[str | None, Header(description='the ETag of the ticket you read (required)')] = None,
) -> Response[Ticket]:
    """Change status, assignee, priority, queue or title; 412 when someone changed the ticket since."""
    data: dict[str, Any] = changes.model_dump(exclude_unset=True)
    return _with_etag(logic.update_ticket(ticket_id, data, parse_if_match(if_match)))


@router.get('/tickets/<ticket_id>/messages', security=AGENTS, tags=['messages'], responses=responses(404))
def list_messages(ticket_id: TicketId) -> MessageList:
    """The conversation in order: sanitised HTML, text, attachments, direction, flags, delivery status."""
    return MessageList(items=[message_to_api(m) for m in logic.list_messages(ticket_id)])


@router.get(
    '/tickets/<ticket_id>/messages/<message_id>/attachments/<attachment_id>',
    security=AGENTS,
    tags=['messages'],
    responses=responses(404, status_302='redirect to a download link valid for a minute'),
)
def get_message_attachment(ticket_id: TicketId, message_id: str, attachment_id: str) -> Response[Any]:
    """Redirects to the bytes; served as a download, inline only for raster images."""
    url = logic.message_attachment_url(ticket_id, message_id, attachment_id)
    return Response(302, None, '', headers={'Location': url, **REDIRECT_HEADERS})


@router.post('/tickets/<ticket_id>/replies', security=AGENTS, tags=['messages'], responses=responses(404))
def reply(ticket_id: TicketId, request: ReplyRequest) -> Response[Message]:
    """Email the customer: stored as an outbound message with delivery status `queued` (202)."""
    message = logic.reply(
        ticket_id,
        author=actor(router),
        text=request.text or '',
        html=request.html or '',
        cc=list(request.cc),
        attachment_ids=list(request.attachment_ids),
    )
    return Response(202, 'application/json', message_to_api(message))


@router.post('/tickets/<ticket_id>/notes', security=AGENTS, tags=['messages'], responses=responses(404))
def add_note(ticket_id: TicketId, request: NoteRequest) -> Response[Message]:
    """An internal note: visible to agents, never emailed."""
    note = logic.add_note(ticket_id, author=actor(router), text=request.text or '', html=request.html or '')
    return Response(201, 'application/json', message_to_api(note))
