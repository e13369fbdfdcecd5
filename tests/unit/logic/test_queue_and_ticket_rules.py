"""The rules `logic` decides before the data layer stores anything (no AWS needed)."""

from __future__ import annotations

import pytest

from inboxdesk.errors import ConflictError, InvalidRequestError
from inboxdesk.logic.queues import changed_queue, new_queue
from inboxdesk.logic.tickets import MAX_PARTICIPANTS, after_message, with_participants
from inboxdesk.models import Participant, Ticket
from inboxdesk.names import DEFAULT_QUEUE_COLOUR

ALICE = Participant('Alice', 'alice@customer.test')


def _ticket(*participants: Participant) -> Ticket:
    return Ticket.opened(
        id='T1', number=1, title='t', queue_id='Q1', customer=ALICE, at='2026-01-01T00:00:00.000000Z',
        participants=participants,
    )  # fmt: skip


def test_the_first_queue_becomes_the_default_and_later_ones_only_when_asked():
    # Given no default yet, When a queue is made, Then it is the default, in the default colour
    first = new_queue(name=' Support ', inbound_addresses=['Support@Example.com'], there_is_a_default=False)
    assert first.is_default and first.colour == DEFAULT_QUEUE_COLOUR
    assert (first.name, first.inbound_addresses) == ('Support', ('support@example.com',))
    # Given a default, When another queue is made, Then it is the default only when asked
    assert not new_queue(name='Sales', there_is_a_default=True).is_default
    assert new_queue(name='Sales', is_default=True, there_is_a_default=True).is_default


@pytest.mark.parametrize(
    ('fields', 'complaint'),
    [
        ({'name': '  '}, 'name'),
        ({'name': 'x' * 201}, 'name'),
        ({'name': 'Sales', 'colour': 'red'}, 'colour'),
        ({'name': 'Sales', 'inbound_addresses': ['no-at-sign']}, 'not an email address'),
        ({'name': 'Sales', 'inbound_addresses': ['two words@example.com']}, 'not an email address'),
    ],
)
def test_a_queue_that_breaks_a_rule_is_refused_with_the_reason(fields, complaint):
    with pytest.raises(InvalidRequestError, match=complaint):
        new_queue(**fields, there_is_a_default=True)


def test_the_default_queue_cannot_be_unset_but_can_be_renamed():
    # Given the default queue
    default = new_queue(name='Support', there_is_a_default=False)
    # When an admin un-sets the flag, Then that is refused with what to do instead
    with pytest.raises(ConflictError, match='make another queue the default'):
        changed_queue(default, {'is_default': False})
    # And other changes are checked like a new queue's
    assert changed_queue(default, {'name': ' Help '}).name == 'Help'
    with pytest.raises(InvalidRequestError, match='cannot change'):
        changed_queue(default, {'id': 'other'})


def test_only_new_addresses_join_a_ticket_and_never_beyond_the_limit():
    # Given a ticket of Alice with Bob in copy
    bob = Participant('Bob', 'bob@customer.test')
    ticket = _ticket(bob)
    # When Alice (the customer), BOB again and Carol write, Then only Carol joins
    carol = Participant('Carol', 'carol@customer.test')
    joined = with_participants(
        ticket, [Participant('A', 'ALICE@customer.test'), Participant('B', 'BOB@customer.test'), carol]
    )
    assert joined == (bob, carol)
    # And a crowd stops at the limit
    crowd = [Participant('', f'p{i}@customer.test') for i in range(MAX_PARTICIPANTS * 2)]
    assert len(with_participants(ticket, crowd)) == MAX_PARTICIPANTS
    # And a message moves activity forward only and counts; the version is the data layer's (it moves when a
    # field changes), so it stays as read
    later = after_message(ticket, '2026-02-01T00:00:00.000000Z', joining=[carol])
    earlier = after_message(ticket, '2025-01-01T00:00:00.000000Z')
    assert (later.message_count, later.version, later.participants) == (2, 1, (bob, carol))
    assert earlier.last_activity_at == ticket.last_activity_at
