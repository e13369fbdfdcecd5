"""The data layer the API builds on: ticket lists, optimistic updates, queues, customers, replies with
their outbox entries, delivery status, settings and uploads, against the moto server (`aws` fixture)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inboxdesk.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    QueueAddressTakenError,
)
from inboxdesk.logic import queues, replies
from inboxdesk.logic import tickets as ticket_rules
from inboxdesk.models import Message, Participant, Ticket
from tests.integration.test_inbound_handler import SUPPORT, deliver, make_mail

FAR_FUTURE = '9999-12-31T00:00:00.000000Z'


def _message(ticket: Ticket, **fields: object) -> Message:
    from inboxdesk import ids

    values: dict[str, object] = {
        'direction': 'inbound',
        'sender': ticket.customer,
        'to': (),
        'cc': (),
        'subject': ticket.title,
        'text': 'hello',
        'html': '',
        'attachments': (),
        'created_at': ticket.created_at,
        'rfc_id': f'm{ticket.number}@customer.test',
        **fields,
    }
    return Message(id=ids.new_id(), ticket_id=ticket.id, **values)  # type: ignore[arg-type]


def _ticket(number: int, queue_id: str, *, at: str, email: str = 'alice@customer.test', status: str = 'new') -> Ticket:
    from inboxdesk import ids
    from inboxdesk.dal import tickets

    customer = Participant('Customer', email)
    ticket = Ticket.opened(
        id=ids.new_id(), number=number, title=f'ticket {number}', queue_id=queue_id, customer=customer, at=at
    )
    ticket = replace(ticket, status=status)
    tickets.create_ticket(ticket, _message(ticket), guard_keys=[f'DEDUP#test#{number}'], customer=customer)
    return ticket


@pytest.fixture
def two_queues(aws):
    support = queues.create_queue(name='Support', inbound_addresses=[SUPPORT])
    sales = queues.create_queue(name='Sales', colour='#16a34a', inbound_addresses=['sales@inboxdesk.test'])
    return support, sales


def test_lists_are_newest_activity_first_and_page_with_a_cursor(two_queues):
    # Given five tickets in Support with increasing activity times, and one in Sales
    from inboxdesk.dal import tickets

    support, sales = two_queues
    made = [_ticket(n, support.id, at=f'2026-11-27T08:00:0{n}.000000Z') for n in range(1, 6)]
    _ticket(6, sales.id, at='2026-11-27T09:00:00.000000Z')
    # When Support's tickets are read two at a time
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = tickets.list_tickets(queue=support.id, limit=2, cursor=cursor)
        seen += [t.number for t in page]
        pages += 1
        if cursor is None:
            break
    # Then every Support ticket comes once, newest activity first, in three pages
    assert seen == [t.number for t in reversed(made)] and pages == 3
    # And the unfiltered list holds all six, the Sales one first
    everything, _ = tickets.list_tickets()
    assert [t.number for t in everything] == [6, 5, 4, 3, 2, 1]


def test_a_cursor_only_works_for_its_own_list(two_queues):
    from inboxdesk.dal import tickets

    support, sales = two_queues
    for n in range(1, 4):
        _ticket(n, support.id, at=f'2026-11-27T08:00:0{n}.000000Z')
    _page, cursor = tickets.list_tickets(queue=support.id, limit=1)
    assert cursor
    # When the cursor is used with another filter, or is garbage, Then it is refused
    with pytest.raises(InvalidRequestError, match='another list'):
        tickets.list_tickets(queue=sales.id, cursor=cursor)
    with pytest.raises(InvalidRequestError):
        tickets.list_tickets(cursor='not-a-cursor!')
    filters = {'status': None, 'assignee': None, 'cursor': None, 'limit': 10}
    with pytest.raises(InvalidRequestError, match='one of queue, assignee or customer'):
        ticket_rules.list_tickets(queue=support.id, customer='a@b.test', **filters)


def test_filters_by_status_assignee_and_customer_follow_every_change(two_queues):
    # Given three tickets, two from Alice and one from Bob
    from inboxdesk.dal import tickets

    support, sales = two_queues
    first = _ticket(1, support.id, at='2026-11-27T08:00:01.000000Z')
    second = _ticket(2, support.id, at='2026-11-27T08:00:02.000000Z')
    _ticket(3, support.id, at='2026-11-27T08:00:03.000000Z', email='bob@customer.test')
    # When an agent takes ticket 1 and solves it, and ticket 2 moves to Sales
    ticket_rules.update_ticket(first.id, {'assignee': 'agent@inboxdesk.test', 'status': 'solved'}, expected_version=1)
    ticket_rules.update_ticket(second.id, {'queue_id': sales.id}, expected_version=1)

    def numbers(**filters: str) -> list[int]:
        return [t.number for t in tickets.list_tickets(**filters)[0]]  # type: ignore[arg-type]

    # Then each list shows the new state, read from its own index
    assert numbers(status='solved') == [1]
    assert numbers(status='new') == [3, 2]
    assert numbers(assignee='agent@inboxdesk.test') == [1]
    assert numbers(assignee='agent@inboxdesk.test', status='solved') == [1]
    assert numbers(assignee='agent@inboxdesk.test', status='open') == []
    assert numbers(queue=support.id) == [3, 1]
    assert numbers(queue=sales.id, status='new') == [2]
    assert numbers(customer='ALICE@customer.test') == [2, 1]
    assert numbers(customer='alice@customer.test', status='solved') == [1]
    assert numbers(customer='alice@customer.test', status='new') == [2]
    # When the ticket is unassigned, Then it leaves the agent's lists
    ticket_rules.update_ticket(first.id, {'assignee': None}, expected_version=2)
    assert numbers(assignee='agent@inboxdesk.test') == []


def test_update_with_a_stale_version_is_refused(two_queues):
    # Given a ticket two agents read at version 1
    from inboxdesk.dal import tickets

    support, _ = two_queues
    ticket = _ticket(1, support.id, at='2026-11-27T08:00:01.000000Z')
    # When the first saves, Then the second (still at version 1) gets a precondition failure
    updated = ticket_rules.update_ticket(ticket.id, {'priority': 'high'}, expected_version=1)
    assert updated.version == 2
    with pytest.raises(PreconditionFailedError):
        ticket_rules.update_ticket(ticket.id, {'priority': 'low'}, expected_version=1)
    assert tickets.get_ticket(ticket.id).priority == 'high'
    # And unknown fields, values, tickets and queues are refused
    with pytest.raises(InvalidRequestError):
        ticket_rules.update_ticket(ticket.id, {'status': 'burning'}, expected_version=2)
    with pytest.raises(InvalidRequestError):
        ticket_rules.update_ticket(ticket.id, {'customer_email': 'x@y.test'}, expected_version=2)
    with pytest.raises(NotFoundError):
        ticket_rules.update_ticket('nope', {'priority': 'low'}, expected_version=1)
    with pytest.raises(NotFoundError):
        ticket_rules.update_ticket(ticket.id, {'queue_id': 'nope'}, expected_version=2)
    assert tickets.get_ticket_by_number(1).id == ticket.id
    with pytest.raises(NotFoundError):
        tickets.get_ticket_by_number(99)


def test_queues_routing_addresses_default_and_deletion(aws):
    from inboxdesk.dal import queues as queue_store

    # Given a first queue (it becomes the default) and a second one
    support = queues.create_queue(name='Support', inbound_addresses=['Support@Inboxdesk.test'])
    billing = queues.create_queue(name='Billing', colour='#ff0000', inbound_addresses=['billing@inboxdesk.test'])
    assert support.is_default and not billing.is_default
    # Then addresses are found case-insensitively and with plus-tags
    found = queue_store.find_queue_by_address('support+urgent@INBOXDESK.test')
    assert found is not None and found.id == support.id
    assert queue_store.find_queue_by_address('nobody@inboxdesk.test') is None
    # And an address cannot belong to two queues
    with pytest.raises(QueueAddressTakenError, match='support@inboxdesk.test'):
        queues.create_queue(name='Other', inbound_addresses=['support@inboxdesk.test'])
    with pytest.raises(InvalidRequestError):
        queues.create_queue(name='Bad colour', colour='red')
    # When Billing becomes the default and takes a new address in place of its old one
    queues.update_queue(billing.id, {'is_default': True, 'inbound_addresses': ['invoices@inboxdesk.test']})
    # Then the default moved and routing follows the new address only
    default = queue_store.get_default_queue()
    assert default is not None and default.id == billing.id
    assert not queues.get_queue(support.id).is_default
    assert queue_store.find_queue_by_address('billing@inboxdesk.test') is None
    assert queue_store.find_queue_by_address('invoices@inboxdesk.test').id == billing.id  # type: ignore[union-attr]
    assert [q.name for q in queues.list_queues()] == ['Billing', 'Support']
    # And the default queue cannot be deleted while others exist, but Support (no tickets) can
    with pytest.raises(ConflictError):
        queues.delete_queue(billing.id)
    queues.delete_queue(support.id)
    assert queue_store.find_queue_by_address('support@inboxdesk.test') is None
    with pytest.raises(NotFoundError):
        queues.get_queue(support.id)


def test_a_queue_with_tickets_cannot_be_deleted(two_queues):
    support, sales = two_queues
    _ticket(1, sales.id, at='2026-11-27T08:00:01.000000Z')
    with pytest.raises(ConflictError, match='still has tickets'):
        queues.delete_queue(sales.id)


def test_note_reply_delivery_status_and_the_provider_message_id_threads(aws):
    # Given a ticket from a customer's mail, with an internal note and an agent's reply
    from inboxdesk.dal import customers, outbox, tickets

    queues.create_queue(name='Support', inbound_addresses=[SUPPORT])
    deliver(make_mail())
    [ticket] = tickets.list_tickets()[0]
    replies.add_note(ticket.id, author='agent@inboxdesk.test', text='customer is VIP')
    reply = replies.add_outbound_message(
        ticket.id,
        author='agent@inboxdesk.test',
        sender=Participant('Support', SUPPORT),
        to=[ticket.customer],
        subject='Re: Printer on fire',
        text='On our way.',
        rfc_id='<reply-7@inboxdesk.test>',
    )
    assert reply.delivery_status == 'queued'
    # Then the reply, and not the note, waits in the outbox (entries older than the cut-off only)
    [entry] = outbox.pending(FAR_FUTURE, 10)
    assert (entry.ticket_id, entry.message_id, entry.rfc_id) == (ticket.id, reply.id, 'reply-7@inboxdesk.test')
    assert outbox.pending(reply.created_at, 10) == []
    # When the sender reports it sent through SES, which gave the mail its own Message-ID
    tickets.mark_delivery(
        ticket.id, reply.id, status='sent', provider_message_ids=['<0102abc@eu-west-1.amazonses.com>']
    )
    # And the customer answers a copy that only carries SES's Message-ID
    deliver(make_mail(subject='thanks', in_reply_to='<0102abc@eu-west-1.amazonses.com>'))
    # Then its outbox entry is gone, and the answer threads into the ticket after the note and the reply
    assert outbox.pending(FAR_FUTURE, 10) == []
    messages = tickets.list_messages(ticket.id)
    assert [m.direction for m in messages] == ['inbound', 'note', 'outbound', 'inbound']
    assert messages[2].delivery_status == 'sent' and messages[3].thread_rule == 'headers'
    assert tickets.get_ticket(ticket.id).message_count == 4
    customer = customers.get_customer('alice@customer.test')
    assert customer.ticket_count == 1 and customer.name == 'Alice Customer'
    with pytest.raises(NotFoundError):
        customers.get_customer('nobody@customer.test')


def test_a_reply_written_from_a_stale_ticket_read_keeps_the_other_change(two_queues):
    # Given a ticket read by the API, then changed by another agent
    from inboxdesk.dal import tickets

    support, _ = two_queues
    read = _ticket(1, support.id, at='2026-01-01T00:00:00.000000Z')
    ticket_rules.update_ticket(read.id, {'priority': 'urgent'}, expected_version=read.version)
    # When a reply is stored with the ticket as first read
    reply = replies.add_outbound_message(
        read.id,
        author='agent@inboxdesk.test',
        sender=Participant('Support', SUPPORT),
        to=[read.customer],
        subject='Re: ticket 1',
        text='On our way.',
        rfc_id='<reply-1@inboxdesk.test>',
        read=read,
    )
    # Then the reply is on the ticket, the other agent's change is not lost, and only that edit moved the version
    after = tickets.get_ticket(read.id)
    assert after.priority == 'urgent' and after.message_count == 2 and after.version == read.version + 1
    assert [m.id for m in tickets.list_messages(read.id)][-1] == reply.id


def test_a_refused_transaction_leaves_no_outbox_entry(two_queues):
    # Given a ticket an agent opened, whose first message is outbound and queued
    from inboxdesk.dal import outbox, tickets

    support, _ = two_queues
    first = Ticket.opened(
        id='T1', number=1, title='t', queue_id=support.id, customer=Participant('', 'c@x.test'), at='2026-11-27T08:00Z'
    )
    queued = {'direction': 'outbound', 'delivery_status': 'queued', 'rfc_id': 'first@inboxdesk.test'}
    tickets.create_ticket(first, _message(first, **queued), guard_keys=[], customer=None)
    # When a second write of the same ticket with another queued message is refused (the ticket exists)
    with pytest.raises(PreconditionFailedError):
        tickets.create_ticket(first, _message(first, **queued), guard_keys=[], customer=None)
    # Then only the first message and its one outbox entry exist: nothing of the refused write
    assert [m.direction for m in tickets.list_messages('T1')] == ['outbound']
    [entry] = outbox.pending(FAR_FUTURE, 10)
    assert entry.message_id == tickets.list_messages('T1')[0].id


def test_settings_are_versioned_documents(aws):
    from inboxdesk.dal import settings

    # Given nothing stored, Then the defaults read at version 0
    assert settings.get_manual_filter() == ([], 0) and settings.get_appearance() == (None, 0)
    # When two admins write from version 0, Then the second is refused and the first stays
    assert settings.put_manual_filter(['a@x.test'], expected_version=0, updated_by='admin') == 1
    with pytest.raises(PreconditionFailedError):
        settings.put_manual_filter(['b@x.test'], expected_version=0, updated_by='other')
    assert settings.put_appearance({'logo_url': None}, expected_version=0, updated_by='admin') == 1
    assert settings.get_manual_filter() == (['a@x.test'], 1)
    assert settings.get_appearance() == ({'logo_url': None}, 1)


def test_uploads_are_found_by_id_and_know_whether_their_bytes_arrived(aws):
    import boto3

    from inboxdesk.config import storage_settings
    from inboxdesk.dal import attachments, mail_store

    upload = attachments.StoredUpload('u1', 'a.txt', 'text/plain', 3, mail_store.upload_key('u1'), 'agent', 'now')
    attachments.create_upload(upload)
    assert attachments.get_upload('u1') == upload and attachments.stored_size(upload) is None
    boto3.client('s3').put_object(Bucket=storage_settings().mail_bucket, Key=upload.s3_key, Body=b'abc')
    assert attachments.stored_size(upload) == 3
    with pytest.raises(NotFoundError):
        attachments.get_upload('u2')
