"""The rules of tickets: which list filters exist, which changes an agent may make, who joins a ticket.

`dal.tickets` stores what these functions decide; every change is conditional on the version read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Final

from inboxdesk.dal import queues as queue_store
from inboxdesk.dal import tickets as ticket_store
from inboxdesk.errors import InvalidRequestError, PreconditionFailedError, PreconditionRequiredError
from inboxdesk.models import PRIORITIES, TICKET_STATUSES, Message, Participant, Ticket, TicketStatus

MAX_PARTICIPANTS: Final = 50  # keeps the ticket item far below DynamoDB's 400 KB
TITLE_LIMIT: Final = 200
TICKET_FIELDS: Final = frozenset({'status', 'assignee', 'priority', 'queue_id', 'title'})


def with_participants(ticket: Ticket, people: Iterable[Participant]) -> tuple[Participant, ...]:
    """The ticket's CCs after `people` joined: those with an address not on the ticket yet, up to the limit."""
    participants = list(ticket.participants)
    for person in people:
        if len(participants) >= MAX_PARTICIPANTS:
            break
        if person.email and not ticket.is_participant(person.email) and person not in participants:
            participants.append(person)
    return tuple(participants)


def after_message(ticket: Ticket, at: str, *, joining: Iterable[Participant] = ()) -> Ticket:
    """The ticket after one more message at `at`: activity, count, participants. The version moves on only
    when a field changes (the data layer decides on write), so adding a message never voids an agent's ETag."""
    return replace(
        ticket,
        last_activity_at=max(at, ticket.last_activity_at),
        message_count=ticket.message_count + 1,
        participants=with_participants(ticket, joining),
    )


def list_tickets(
    *,
    queue: str | None,
    status: TicketStatus | None,
    assignee: str | None,
    customer: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Ticket], str | None]:
    """One page, newest activity first; one of queue, assignee or customer, each with or without status."""
    if status is not None and status not in TICKET_STATUSES:
        raise InvalidRequestError(f'unknown status {status!r}; one of {", ".join(TICKET_STATUSES)}')
    given = [name for name, value in (('queue', queue), ('assignee', assignee), ('customer', customer)) if value]
    if len(given) > 1:
        raise InvalidRequestError('filter by one of queue, assignee or customer (each with or without status)')
    return ticket_store.list_tickets(
        queue=queue, status=status, assignee=assignee, customer=customer, cursor=cursor, limit=limit
    )


def get_ticket(ticket_id: str) -> Ticket:
    """NotFoundError when there is no such ticket."""
    return ticket_store.get_ticket(ticket_id)


def get_ticket_by_number(number: int) -> Ticket:
    """NotFoundError when no ticket has this number."""
    return ticket_store.get_ticket_by_number(number)


def list_messages(ticket_id: str) -> list[Message]:
    """The conversation in order; NotFoundError for an unknown ticket (rather than an empty list)."""
    ticket_store.get_ticket(ticket_id)
    return ticket_store.list_messages(ticket_id)


def _checked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    unknown = set(values) - TICKET_FIELDS
    if unknown:
        raise InvalidRequestError(f'cannot change {", ".join(sorted(unknown))}')
    if 'status' in values and values['status'] not in TICKET_STATUSES:
        raise InvalidRequestError(f'unknown status {values["status"]!r}')
    if 'priority' in values and values['priority'] not in PRIORITIES:
        raise InvalidRequestError(f'unknown priority {values["priority"]!r}')
    if 'title' in values:
        values['title'] = ' '.join(str(values['title']).split())
        if not values['title'] or len(values['title']) > TITLE_LIMIT:
            raise InvalidRequestError(f'the title must be 1 to {TITLE_LIMIT} characters')
    if values.get('assignee') == '':
        values['assignee'] = None
    return values


def update_ticket(ticket_id: str, changes: dict[str, Any], expected_version: int | None) -> Ticket:
    """Change status, assignee, priority, queue_id or title if the ticket is still at `expected_version`.

    PreconditionRequiredError without a version; PreconditionFailedError when someone else changed it;
    NotFoundError for an unknown ticket or queue; InvalidRequestError for unknown fields or values."""
    if expected_version is None:
        raise PreconditionRequiredError('send If-Match with the ETag (version) of the ticket you read')
    values = _checked_changes(changes)
    current = ticket_store.get_ticket(ticket_id)
    if current.version != expected_version:
        raise PreconditionFailedError(f'ticket {ticket_id} is at version {current.version}, not {expected_version}')
    if 'queue_id' in values and values['queue_id'] != current.queue_id:
        queue_store.get_queue(values['queue_id'])
    updated = replace(current, **values, version=current.version + 1)
    ticket_store.save_ticket(current, updated)
    return updated
