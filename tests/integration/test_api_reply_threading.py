"""Mail the API sends carries a Message-ID that names its ticket: the customer's answer, through the real
inbound handler, threads into that ticket by headers, and ingestion reads the pointer and the ticket in
one BatchGetItem (no extra GetItem for the ticket)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.integration.test_inbound_handler import (
    SUPPORT,
    all_tickets,
    handle,
    make_mail,
    ses_body,
    sqs_event,
    store_raw,
)
from tests.support.api import ADMIN, AGENT, call

DYNAMODB_READS = frozenset({'GetItem', 'BatchGetItem', 'Query', 'Scan'})


class DynamoDBCalls:
    """Counts the DynamoDB operations of every PynamoDB client (botocore `before-call` hooks)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_kwargs: Any) -> None:
        self.calls[model.name] += 1

    def reads(self) -> dict[str, int]:
        return {name: count for name, count in self.calls.items() if name in DYNAMODB_READS}


@pytest.fixture
def dynamodb_calls(aws) -> Iterator[DynamoDBCalls]:
    from inboxdesk.dal import table

    counter = DynamoDBCalls()
    clients = {id(c): c for c in (table.connection().client, table.InboxdeskItem._get_connection().connection.client)}
    for client in clients.values():
        client.meta.events.register('before-call.dynamodb', counter)
    yield counter
    for client in clients.values():
        client.meta.events.unregister('before-call.dynamodb', counter)


@pytest.fixture
def support(aws) -> dict[str, Any]:
    status, _, body = call(
        'POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': [SUPPORT], 'is_default': True}
    )
    assert status == 201, body
    return dict(body)


def _sent_message_ids() -> list[str]:
    """The Message-IDs of the reply jobs on the outbound queue (what the sender will put on the mail)."""
    sqs = boto3.client('sqs')
    received = sqs.receive_message(QueueUrl=os.environ['OUTBOUND_QUEUE_URL'], MaxNumberOfMessages=10)
    return [json.loads(m['Body'])['rfc_id'] for m in received.get('Messages', [])]


def _customer_answer(counter: DynamoDBCalls, **headers: Any) -> dict[str, int]:
    """The customer's answer (`make_mail` keywords: in_reply_to, references), stored as SES would and handed
    to the inbound function; the DynamoDB reads of the function alone."""
    key = store_raw(make_mail(subject='Re: Printer on fire', **headers).as_bytes())
    counter.calls.clear()
    assert handle(sqs_event(ses_body(key))) == {'batchItemFailures': []}
    return counter.reads()


def _warm_routing_cache() -> None:
    """A warm inbound container already holds the queues (one Query per cache period, not per mail)."""
    from inboxdesk.dal import queues

    queues.routing_table(max_age=60)


def _thread_rules(ticket_id: str) -> list[tuple[str, str | None]]:
    from inboxdesk.dal import tickets

    return [(m.direction, m.thread_rule) for m in tickets.list_messages(ticket_id)]


def test_customer_answer_to_an_agent_reply_threads_with_one_batch_read(support, dynamodb_calls):
    # Given a customer's mail that became a ticket, answered by an agent through the API
    key = store_raw(make_mail().as_bytes())
    assert handle(sqs_event(ses_body(key))) == {'batchItemFailures': []}
    [ticket] = all_tickets()
    status, _, reply = call('POST', f'/tickets/{ticket.id}/replies', claims=AGENT, body={'text': 'We are on it.'})
    assert status == 202, reply
    [sent_id] = _sent_message_ids()
    # When the customer answers that mail (In-Reply-To with the usual angle brackets)
    reads = _customer_answer(dynamodb_calls, in_reply_to=f'<{sent_id}>')
    # Then the answer is on the same ticket, threaded by headers
    assert [t.id for t in all_tickets()] == [ticket.id]
    assert _thread_rules(ticket.id) == [('inbound', 'new'), ('outbound', None), ('inbound', 'headers')]
    # And ingestion read the pointer and the ticket in a single BatchGetItem, nothing else
    assert reads == {'BatchGetItem': 1}


def test_customer_answer_to_an_agent_opened_ticket_threads_with_one_batch_read(support, dynamodb_calls):
    # Given a ticket an agent opened for a customer through the API (its first message is outbound),
    # and an inbound function that already knows the queues
    status, _, opened = call(
        'POST',
        '/tickets',
        claims=AGENT,
        body={'customer': 'alice@customer.test', 'title': 'Printer on fire', 'text': 'Is it still burning?'},
    )
    assert status == 201, opened
    ticket_id = opened['ticket']['id']
    [sent_id] = _sent_message_ids()
    _warm_routing_cache()
    # When the customer answers it, naming the id only in References (as some clients do)
    reads = _customer_answer(dynamodb_calls, references=[f'<{sent_id}>'])
    # Then the answer joins that ticket by headers, read in a single BatchGetItem
    assert [t.id for t in all_tickets()] == [ticket_id]
    assert _thread_rules(ticket_id) == [('outbound', None), ('inbound', 'headers')]
    assert reads == {'BatchGetItem': 1}


def test_sent_message_ids_are_stored_without_brackets_and_name_their_ticket(support):
    # Given a ticket opened by an agent and a reply on it
    status, _, opened = call(
        'POST', '/tickets', claims=AGENT, body={'customer': 'alice@customer.test', 'title': 'Hi', 'text': 'Hello'}
    )
    assert status == 201, opened
    ticket_id = opened['ticket']['id']
    assert call('POST', f'/tickets/{ticket_id}/replies', claims=AGENT, body={'text': 'More'})[0] == 202
    # When the messages and the queued jobs are read
    from inboxdesk.dal import tickets

    stored = [m.rfc_id for m in tickets.list_messages(ticket_id)]
    queued = sorted(_sent_message_ids())
    # Then each id is one form everywhere: no brackets, the ticket id first, the queue's domain after the @
    assert sorted(m or '' for m in stored) == queued and len(set(queued)) == 2
    for message_id in queued:
        assert message_id.startswith(f'{ticket_id}.') and message_id.endswith('@inboxdesk.test')
        assert '<' not in message_id and '>' not in message_id
