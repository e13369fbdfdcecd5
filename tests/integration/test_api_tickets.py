"""Tickets, conversations, replies and notes through the real handler, on the embedded AWS."""

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from inboxdesk.config import clear_settings
from inboxdesk.logic.replies import requeue_pending_replies
from tests.support.api import ADMIN, AGENT, call


@pytest.fixture
def queue(aws):
    status, _, body = call(
        'POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': ['support@example.com']}
    )
    assert status == 201
    return body


def _open(title: str = 'Printer on fire', customer: str = 'carol@example.org', **extra: Any) -> dict[str, Any]:
    status, headers, body = call(
        'POST', '/tickets', claims=AGENT, body={'customer': customer, 'title': title, 'text': 'Hello', **extra}
    )
    assert status == 201, body
    return dict(body['ticket'])


def _jobs() -> list[dict[str, Any]]:
    sqs = boto3.client('sqs')
    messages = sqs.receive_message(QueueUrl=os.environ['OUTBOUND_QUEUE_URL'], MaxNumberOfMessages=10).get(
        'Messages', []
    )
    return [json.loads(m['Body']) for m in messages]


def test_agent_opens_ticket_for_customer_and_it_is_listed_and_queued(queue):
    # Given a queue, When an agent opens a ticket on a customer's behalf
    ticket = _open()
    # Then it is listed, readable by id and number, and its first message is queued for sending
    status, _, page = call('GET', '/tickets', claims=AGENT)
    assert status == 200 and [t['id'] for t in page['items']] == [ticket['id']]
    status, headers, by_id = call('GET', f'/tickets/{ticket["id"]}', claims=AGENT)
    assert status == 200 and headers['etag'] == '"1"' and by_id['customer']['email'] == 'carol@example.org'
    assert call('GET', f'/tickets/by-number/{ticket["number"]}', claims=AGENT)[2]['id'] == ticket['id']
    [job] = _jobs()
    assert job['ticket_id'] == ticket['id'] and job['type'] == 'reply'
    _, _, messages = call('GET', f'/tickets/{ticket["id"]}/messages', claims=AGENT)
    assert [(m['direction'], m['delivery_status'], m['id']) for m in messages['items']] == [
        ('outbound', 'queued', job['message_id'])
    ]


def test_filters_and_pagination_newest_activity_first(queue):
    # Given three tickets of two customers
    first = _open('one', 'a@example.org')
    second = _open('two', 'b@example.org')
    third = _open('three', 'a@example.org')
    # When the list is read two at a time
    status, _, page1 = call('GET', '/tickets', claims=AGENT, query={'limit': '2'})
    _, _, page2 = call('GET', '/tickets', claims=AGENT, query={'limit': '2', 'cursor': page1['next_cursor']})
    # Then pages are full, newest first, and end with no cursor
    assert [t['title'] for t in page1['items'] + page2['items']] == ['three', 'two', 'one']
    assert page2['next_cursor'] is None
    # And each filter answers only its tickets
    by_customer = call('GET', '/tickets', claims=AGENT, query={'customer': 'a@example.org'})[2]['items']
    assert [t['id'] for t in by_customer] == [third['id'], first['id']]
    by_queue = call('GET', '/tickets', claims=AGENT, query={'queue': queue['id'], 'status': 'open'})[2]['items']
    assert len(by_queue) == 3
    call('PATCH', f'/tickets/{first["id"]}', claims=AGENT, body={'status': 'solved'}, headers={'If-Match': '"1"'})
    solved = call('GET', '/tickets', claims=AGENT, query={'customer': 'a@example.org', 'status': 'solved'})[2]
    assert [t['id'] for t in solved['items']] == [first['id']]
    open_ones = call('GET', '/tickets', claims=AGENT, query={'customer': 'a@example.org', 'status': 'open'})[2]
    assert [t['id'] for t in open_ones['items']] == [third['id']]
    assert call('GET', '/tickets', claims=AGENT, query={'status': 'closed'})[2]['items'] == []
    mine = call('GET', '/tickets', claims=AGENT, query={'assignee': 'agent@example.com'})[2]['items']
    assert {t['id'] for t in mine} == {first['id'], second['id'], third['id']}


@pytest.mark.parametrize(
    'query',
    [
        {'limit': '0'},
        {'limit': '201'},
        {'status': 'nonsense'},
        {'customer': 'not-an-email'},
        {'customer': 'a@example.org', 'assignee': 'b@example.org'},
    ],
)
def test_bad_list_parameters_are_problem_422(queue, query):
    # Given a bad parameter, When the list is asked for, Then a 422 problem says what is wrong
    status, headers, body = call('GET', '/tickets', claims=AGENT, query=query)
    assert status == 422 and headers['content-type'] == 'application/problem+json'
    assert body['status'] == 422 and body['detail']


def test_patch_needs_if_match_and_refuses_a_stale_version(queue):
    ticket = _open()
    path = f'/tickets/{ticket["id"]}'
    # Given no If-Match, Then 428
    assert call('PATCH', path, claims=AGENT, body={'status': 'pending'})[0] == 428
    # When one agent changes it with the version read, Then it changes and the ETag moves on
    status, headers, body = call('PATCH', path, claims=AGENT, body={'status': 'pending'}, headers={'If-Match': '"1"'})
    assert status == 200 and body['status'] == 'pending' and headers['etag'] == '"2"'
    # And a second agent with the old version gets 412, and the ticket keeps the first change
    status, _, problem = call('PATCH', path, claims=AGENT, body={'priority': 'high'}, headers={'If-Match': '"1"'})
    assert status == 412 and 'retry' in problem['detail']
    assert call('GET', path, claims=AGENT)[2]['priority'] == 'normal'


@pytest.mark.parametrize(
    'body',
    [{}, {'status': 'exploded'}, {'priority': 'meh'}, {'title': ''}, {'assignee': 'nobody'}, {'colour': '#fff'}],
)
def test_patch_validation_errors(queue, body):
    ticket = _open()
    status, _, problem = call('PATCH', f'/tickets/{ticket["id"]}', claims=AGENT, body=body, headers={'If-Match': '1'})
    assert status == 422 and problem['title'] == 'Unprocessable Entity'


def test_patch_to_unknown_queue_is_404_and_unknown_ticket_is_404(queue):
    ticket = _open()
    status, _, problem = call(
        'PATCH', f'/tickets/{ticket["id"]}', claims=AGENT, body={'queue_id': 'NOQUEUE'}, headers={'If-Match': '1'}
    )
    assert status == 404 and 'NOQUEUE' in problem['detail']
    for path in ('/tickets/NOPE', '/tickets/NOPE/messages', '/tickets/by-number/999'):
        assert call('GET', path, claims=AGENT)[0] == 404, path
    assert call('POST', '/tickets/NOPE/replies', claims=AGENT, body={'text': 'x'})[0] == 404
    assert call('POST', '/tickets/NOPE/notes', claims=AGENT, body={'text': 'x'})[0] == 404


def test_reply_and_note_are_in_the_conversation_in_order_with_sanitised_html(queue):
    ticket = _open()
    _jobs()
    # When an agent replies with HTML carrying a script and a CC, and adds a note
    status, _, reply = call(
        'POST',
        f'/tickets/{ticket["id"]}/replies',
        claims=AGENT,
        body={'html': '<p onclick="steal()">Fixed<script>alert(1)</script></p>', 'cc': ['Boss@Example.org']},
    )
    assert status == 202 and reply['delivery_status'] == 'queued'
    status, _, note = call('POST', f'/tickets/{ticket["id"]}/notes', claims=AGENT, body={'text': 'called them'})
    assert status == 201
    # Then the conversation has them in order; the HTML is clean; only the reply became a job
    _, _, messages = call('GET', f'/tickets/{ticket["id"]}/messages', claims=AGENT)
    assert [m['direction'] for m in messages['items']] == ['outbound', 'outbound', 'note']
    stored = messages['items'][1]
    assert stored['html'] == '<p>Fixed</p>' and stored['cc'] == [{'email': 'boss@example.org', 'name': ''}]
    assert stored['subject'].endswith(f'[#{ticket["number"]}]')
    assert [j['message_id'] for j in _jobs()] == [reply['id']]


@pytest.mark.parametrize(
    'body',
    [
        {},
        {'text': '   '},
        {'text': 'x', 'cc': ['nope']},
        {'text': 'x', 'bcc': []},
        {'text': 'x', 'attachment_ids': ['../x']},
    ],
)
def test_reply_validation_errors(queue, body):
    ticket = _open()
    assert call('POST', f'/tickets/{ticket["id"]}/replies', claims=AGENT, body=body)[0] == 422


def test_reply_to_an_address_in_the_outgoing_filter_is_refused(queue):
    ticket = _open(customer='mailer-bot@example.org')
    call(
        'PUT',
        '/settings/outgoing-filter',
        claims=ADMIN,
        body={'addresses': ['support@example.com', 'mailer-bot@example.org']},
    )
    status, _, problem = call('POST', f'/tickets/{ticket["id"]}/replies', claims=AGENT, body={'text': 'hi'})
    assert status == 422 and 'mailer-bot@example.org' in problem['detail']
    # And a CC to one of our own inbound addresses (in the filter automatically) is refused by name too
    other = _open(customer='dan@example.org')
    body = {'text': 'hi', 'cc': ['ok@example.org', 'Support@example.com']}
    status, _, problem = call('POST', f'/tickets/{other["id"]}/replies', claims=AGENT, body=body)
    assert status == 422 and 'support@example.com' in problem['detail'] and 'ok@' not in problem['detail']


def test_reply_that_cannot_be_queued_stays_queued_and_is_requeued(queue, monkeypatch):
    ticket = _open()
    _jobs()
    # Given the outbound queue refuses jobs (it does not exist)
    good_url = os.environ['OUTBOUND_QUEUE_URL']
    monkeypatch.setenv('OUTBOUND_QUEUE_URL', good_url + '-gone')
    clear_settings()
    # When an agent replies
    status, _, reply = call('POST', f'/tickets/{ticket["id"]}/replies', claims=AGENT, body={'text': 'soon'})
    # Then the reply is accepted and stored as queued, and no job exists yet
    assert status == 202 and reply['delivery_status'] == 'queued'
    monkeypatch.setenv('OUTBOUND_QUEUE_URL', good_url)
    clear_settings()
    assert _jobs() == []
    # When the sweep runs (a young reply is left alone, a stale one is queued again), exactly once
    assert requeue_pending_replies() == 0
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert requeue_pending_replies(now=later) == 1
    assert requeue_pending_replies(now=later) == 0
    # Then its job is on the queue
    assert [j['message_id'] for j in _jobs()] == [reply['id']]


def test_open_ticket_without_any_queue_is_refused_with_a_reason(aws):
    status, _, problem = call(
        'POST', '/tickets', claims=AGENT, body={'customer': 'c@example.org', 'title': 't', 'text': 'x'}
    )
    assert status == 422 and 'POST /queues' in problem['detail']


def test_customers_by_email(queue):
    _open(customer='dora@example.org')
    status, _, body = call('GET', '/customers', claims=AGENT, query={'email': 'Dora@Example.org'})
    assert status == 200 and body['items'][0]['email'] == 'dora@example.org'
    assert body['items'][0]['ticket_count'] == 1
    assert call('GET', '/customers', claims=AGENT, query={'email': 'nobody@example.org'})[2] == {'items': []}
    assert call('GET', '/customers', claims=AGENT)[0] == 422
