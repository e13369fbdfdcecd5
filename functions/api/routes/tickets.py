"""Tickets and their conversations: list, read, change (If-Match), reply, note, open for a customer."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from inboxdesk.logic import attachments, replies, tickets
from inboxdesk.models import Participant, Ticket
from inboxdesk.models.api import (
    Created,
    EmailAddress,
    Identifier,
    MessageList,
    MessageResource,
    NewTicketRequest,
    NoteRequest,
    ReplyRequest,
    TicketPage,
    TicketPatch,
    TicketResource,
)
from inboxdesk.models.vocabulary import TicketStatus
from inboxdesk.names import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

from ..access import AGENTS, actor
from ..etag import etag, parse_if_match
from ..problems import responses
from .attachments import REDIRECT_HEADERS

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped
TicketId = Annotated[str, Path(pattern=r'^[A-Za-z0-9_-]{1,64}$')]


def _with_etag(ticket: Ticket, status: int = 200) -> Response[TicketResource]:
    body = TicketResource.model_validate(ticket)
    return Response(status, 'application/json', body, headers={'ETag': etag(ticket.version)})


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
    items, next_cursor = tickets.list_tickets(
        queue=queue, status=status, assignee=assignee, customer=customer, cursor=cursor, limit=limit
    )
    return TicketPage(items=[TicketResource.model_validate(t) for t in items], next_cursor=next_cursor)


@router.post('/tickets', security=AGENTS, tags=['tickets'], responses=responses(404))
def create_ticket(request: NewTicketRequest) -> Response[Created]:
    """Open a ticket on a customer's behalf; its first message is emailed to them (queued)."""
    ticket, message = replies.open_ticket(
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
    body = Created(ticket=TicketResource.model_validate(ticket), message=MessageResource.of(message))
    return Response(
        201,
        'application/json',
        body,
        headers={'Location': f'/tickets/{ticket.id}', 'ETag': etag(ticket.version)},
    )


@router.get('/tickets/by-number/<number>', security=AGENTS, tags=['tickets'], responses=responses(404))
def get_ticket_by_number(number: Annotated[int, Path(ge=1, le=10**12)]) -> Response[TicketResource]:
    """The ticket with this human number (`#1042` is 1042)."""
    return _with_etag(tickets.get_ticket_by_number(number))


@router.get('/tickets/<ticket_id>', security=AGENTS, tags=['tickets'], responses=responses(404))
def get_ticket(ticket_id: TicketId) -> Response[TicketResource]:
    """The ticket; its ETag is the version to send in If-Match."""
    return _with_etag(tickets.get_ticket(ticket_id))


@router.patch('/tickets/<ticket_id>', security=AGENTS, tags=['tickets'], responses=responses(404, 412, 428))
def update_ticket(
    ticket_id: TicketId,
    changes: TicketPatch,
    if_match: Annotated[str | None, Header(description='the ETag of the ticket you read (required)')] = None,
) -> Response[TicketResource]:
    """Change status, assignee, priority, queue or title; 412 when someone changed the ticket since."""
    data: dict[str, Any] = changes.model_dump(exclude_unset=True)
    return _with_etag(tickets.update_ticket(ticket_id, data, parse_if_match(if_match)))


@router.get('/tickets/<ticket_id>/messages', security=AGENTS, tags=['messages'], responses=responses(404))
def list_messages(ticket_id: TicketId) -> MessageList:
    """The conversation in order: sanitised HTML, text, attachments, direction, flags, delivery status."""
    return MessageList(items=[MessageResource.of(m) for m in tickets.list_messages(ticket_id)])


@router.get(
    '/tickets/<ticket_id>/messages/<message_id>/attachments/<attachment_id>',
    security=AGENTS,
    tags=['messages'],
    responses=responses(404, status_302='redirect to a download link valid for a minute'),
)
def get_message_attachment(ticket_id: TicketId, message_id: str, attachment_id: str) -> Response[Any]:
    """Redirects to the bytes; served as a download, inline only for raster images."""
    url = attachments.message_attachment_url(ticket_id, message_id, attachment_id)
    return Response(302, None, '', headers={'Location': url, **REDIRECT_HEADERS})


@router.post('/tickets/<ticket_id>/replies', security=AGENTS, tags=['messages'], responses=responses(404))
def reply(ticket_id: TicketId, request: ReplyRequest) -> Response[MessageResource]:
    """Email the customer: stored as an outbound message with delivery status `queued` (202)."""
    message = replies.reply(
        ticket_id,
        author=actor(router),
        text=request.text or '',
        html=request.html or '',
        cc=list(request.cc),
        attachment_ids=list(request.attachment_ids),
    )
    return Response(202, 'application/json', MessageResource.of(message))


@router.post('/tickets/<ticket_id>/notes', security=AGENTS, tags=['messages'], responses=responses(404))
def add_note(ticket_id: TicketId, request: NoteRequest) -> Response[MessageResource]:
    """An internal note: visible to agents, never emailed."""
    note = replies.add_note(ticket_id, author=actor(router), text=request.text or '', html=request.html or '')
    return Response(201, 'application/json', MessageResource.of(note))
