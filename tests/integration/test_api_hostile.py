"""Requests as an attacker writes them, through the real API handler on the embedded AWS: unreadable bodies
and forged cursors are 400 problems, nothing bound for a mail header carries a line break, identity comes
from verified claims, weak ETags never match, concurrent notes all land, and an inline image is an image."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
import requests

from tests.integration.test_api_tickets import queue
from tests.support.api import ADMIN, AGENT, call, context
from tests.support.events import api_gateway_event

__all__ = ['queue']  # the fixture, imported for these tests


def _open(title: str = 'Printer on fire', customer: str = 'carol@example.org') -> dict[str, Any]:
    status, _, body = call('POST', '/tickets', claims=AGENT, body={'customer': customer, 'title': title, 'text': 'Hi'})
    assert status == 201, body
    return dict(body['ticket'])


def _raw(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Send exactly these bytes as a JSON body (API Gateway base64-encodes what is not UTF-8)."""
    from api.handler import lambda_handler

    headers = [('host', 'api.example.com'), ('content-type', 'application/json')]
    event = api_gateway_event(method, path, headers, body, AGENT, source_ip='192.0.2.1')
    result = lambda_handler(event, cast(Any, context()))
    assert result['headers']['Content-Type'] == 'application/problem+json', result
    return result['statusCode'], json.loads(result['body'])


@pytest.mark.parametrize(
    ('body', 'reason'),
    [
        (b'{"text": "caf\xe9"}', 'not UTF-8'),
        (b'[' * 1000 + b']' * 1000, 'nests deeper'),
        (b'{"text": "a", "x": ' + b'[' * 40 + b']' * 40 + b'}', 'nests deeper'),
        (b'{"text": ' + b'9' * 5000 + b'}', 'digits'),
        (b'{"text": NaN}', 'not a JSON number'),
        (b'{"text": "unterminated', 'not valid JSON'),
    ],
)
def test_a_body_that_cannot_be_read_is_a_400_problem(queue, body, reason):
    # Given a ticket, When a note arrives whose body cannot be read
    ticket = _open()
    status, problem = _raw('POST', f'/tickets/{ticket["id"]}/notes', body)
    # Then it is a 400 problem saying why, and no note was added
    assert status == 400 and problem['status'] == 400 and reason in problem['detail']
    assert call('GET', f'/tickets/{ticket["id"]}', claims=AGENT)[2]['message_count'] == 1


def _forged(payload: Any, mac: bytes = b'\0' * 16) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip('=')
    return f'{encoded}.{base64.urlsafe_b64encode(mac).decode().rstrip("=")}'


def test_only_a_cursor_this_list_gave_out_is_accepted(queue):
    # Given three tickets and the cursor of the second page of the list of all tickets
    for title in ('one', 'two', 'three'):
        _open(title)
    _, _, first = call('GET', '/tickets', claims=AGENT, query={'limit': '2'})
    cursor = first['next_cursor']
    # When the cursor is used on its own list, Then it reads the next page
    _, _, second = call('GET', '/tickets', claims=AGENT, query={'limit': '2', 'cursor': cursor})
    assert [t['title'] for t in second['items']] == ['one']
    # When it is used on another list, or forged (wrong types, nested, another partition's key, tampered),
    # Then each is a 400 problem
    real_key = {'pk': {'S': 'TICKET#x'}, 'sk': {'S': 'TICKET'}, 'gsi1pk': {'S': 'QUEUE#other'}, 'gsi1sk': {'S': 'z'}}
    payload, _, mac = cursor.partition('.')
    tampered = payload[:-1] + ('A' if payload[-1] != 'A' else 'B') + '.' + mac
    attempts = [
        ({'queue': queue['id'], 'cursor': cursor}, 'another list'),
        ({'cursor': _forged(5)}, 'a number'),
        ({'cursor': _forged({'pk': {'S': {'S': {'S': 'deep'}}}})}, 'nested'),
        ({'cursor': _forged(real_key)}, "another partition's key"),
        ({'cursor': tampered}, 'tampered'),
        ({'cursor': 'garbage!'}, 'garbage'),
        ({'cursor': 'e30'}, 'no MAC'),
    ]
    for query, what in attempts:
        status, headers, problem = call('GET', '/tickets', claims=AGENT, query={'limit': '2', **query})
        assert status == 400 and headers['content-type'] == 'application/problem+json', what
        assert 'cursor' in problem['detail'], what


@pytest.mark.parametrize('bad', ['Hello\r\nBcc: victim@example.org', 'Hello\nthere', 'Hello\x00'])
def test_nothing_bound_for_a_mail_header_may_carry_a_line_break(queue, bad):
    # Given a ticket and an upload, each request below puts `bad` into one field that may become a header
    ticket = _open()
    tid = ticket['id']
    brk = next(c for c in bad if c in '\r\n\x00')  # the character alone, inside an address
    requests_and_fields = [
        (('POST', '/tickets', {'customer': 'c@example.org', 'title': bad, 'text': 'x'}), 'title'),
        (
            ('POST', '/tickets', {'customer': 'c@example.org', 'customer_name': bad, 'title': 't', 'text': 'x'}),
            'customer_name',
        ),
        (
            (
                'POST',
                '/tickets',
                {'customer': 'c@example.org', 'title': 't', 'text': 'x', 'cc': [f'a@b.test{brk}']},
            ),
            'cc',
        ),
        (('PATCH', f'/tickets/{tid}', {'title': bad}), 'title'),
        (('POST', f'/tickets/{tid}/replies', {'text': 'x', 'cc': [f'x{brk}@example.org']}), 'cc'),
        (('POST', '/queues', {'name': bad}), 'name'),
        (('PATCH', f'/queues/{queue["id"]}', {'name': bad}), 'name'),
        (('PATCH', f'/queues/{queue["id"]}', {'reply_via': f'support@example.com{brk}x'}), 'reply_via'),
        (
            ('POST', '/attachments', {'filename': f'a{bad}.pdf', 'content_type': 'application/pdf', 'size': 3}),
            'filename',
        ),
    ]
    for (method, path, body), field in requests_and_fields:
        # When it is sent
        claims = ADMIN if path.startswith('/queues') else AGENT
        status, _, problem = call(method, path, claims=claims, body=body, headers={'If-Match': '"1"'})
        # Then it is refused with a 4xx that names the field
        assert 400 <= status < 500, (path, field, problem)
        assert field in problem['detail'], (path, field, problem['detail'])
    # And nothing changed: the ticket keeps its title, and the queue its name
    assert call('GET', f'/tickets/{tid}', claims=AGENT)[2]['title'] == 'Printer on fire'
    assert [q['name'] for q in call('GET', '/queues', claims=AGENT)[2]['items']] == ['Support']


def test_titles_and_names_keep_their_words_but_lose_control_characters(queue):
    # Given a title with a terminal escape and a right-to-left override, and such a customer name
    body = {
        'customer': 'c@example.org',
        'customer_name': 'Eve\u202e\x1b[2J',
        'title': 'Invoice \u202efdp.exe',
        'text': 'x',
    }
    # When an agent opens the ticket
    status, _, created = call('POST', '/tickets', claims=AGENT, body=body)
    # Then both keep their text without the control characters
    assert status == 201
    assert created['ticket']['title'] == 'Invoice fdp.exe' and created['ticket']['customer']['name'] == 'Eve[2J'


def test_an_unverified_address_is_not_the_callers_identity(queue):
    # Given a caller whose token names an address Cognito did not verify
    ticket = _open()
    unverified = {
        'sub': 'sub-mallory',
        'email': 'ceo@example.com',
        'email_verified': False,
        'cognito:groups': ['agents'],
    }
    # When they add a note
    status, _, note = call('POST', f'/tickets/{ticket["id"]}/notes', claims=unverified, body={'text': 'hi'})
    # Then the note is theirs, by their subject, not by the address they claimed
    assert status == 201 and note['author']['email'] == 'sub-mallory'
    # And a verified address is used as it is
    _, _, mine = call('POST', f'/tickets/{ticket["id"]}/notes', claims=AGENT, body={'text': 'hi'})
    assert mine['author']['email'] == 'agent@example.com'


def test_a_weak_etag_never_matches_if_match(queue):
    # Given a ticket at version 1
    ticket = _open()
    # When an agent changes it with the weak form of its ETag
    status, _, problem = call(
        'PATCH', f'/tickets/{ticket["id"]}', claims=AGENT, body={'priority': 'high'}, headers={'If-Match': 'W/"1"'}
    )
    # Then it is a 412 (RFC 9110's strong comparison), and the strong form works
    assert status == 412 and problem['status'] == 412
    status, headers, _ = call(
        'PATCH', f'/tickets/{ticket["id"]}', claims=AGENT, body={'priority': 'high'}, headers={'If-Match': '"1"'}
    )
    assert status == 200 and headers['etag'] == '"2"'


def test_twenty_concurrent_notes_all_land_and_keep_the_ticket_consistent(queue):
    # Given a ticket, its ETag as an agent read it, and two more tickets with older activity
    older = [_open('older one'), _open('older two')]
    ticket = _open('busy')
    _, read, _ = call('GET', f'/tickets/{ticket["id"]}', claims=AGENT)

    # When 20 agents add a note at the same moment
    def note(i: int) -> tuple[int, dict[str, Any]]:
        status, _, body = call('POST', f'/tickets/{ticket["id"]}/notes', claims=AGENT, body={'text': f'note {i}'})
        return status, body

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(note, range(20)))
    # Then every note succeeded and is in the conversation, and the count says 21 messages
    assert [status for status, _ in results] == [201] * 20
    _, _, conversation = call('GET', f'/tickets/{ticket["id"]}/messages', claims=AGENT)
    assert sorted(m['text'] for m in conversation['items'] if m['direction'] == 'note') == sorted(
        f'note {i}' for i in range(20)
    )
    _, _, after = call('GET', f'/tickets/{ticket["id"]}', claims=AGENT)
    assert after['message_count'] == 21
    # And its last activity is the latest note's, in the ticket and in every list (each index sorts on it)
    latest = max(body['created_at'] for _, body in results)
    assert after['last_activity_at'] == latest
    for query in ({}, {'queue': queue['id']}, {'status': 'open'}, {'customer': 'carol@example.org'}):
        _, _, page = call('GET', '/tickets', claims=AGENT, query=query)
        assert [t['id'] for t in page['items']] == [ticket['id'], older[1]['id'], older[0]['id']], query
        assert page['items'][0]['last_activity_at'] == latest and page['items'][0]['message_count'] == 21, query
    # And notes did not move the version: the ETag read before them still changes the ticket
    status, _, _ = call(
        'PATCH', f'/tickets/{ticket["id"]}', claims=AGENT, body={'priority': 'high'}, headers={'If-Match': read['etag']}
    )
    assert status == 200


def _upload(data: bytes, content_type: str, filename: str) -> str:
    status, _, grant = call(
        'POST',
        '/attachments',
        claims=AGENT,
        body={'filename': filename, 'content_type': content_type, 'size': len(data)},
    )
    assert status == 201
    assert requests.put(grant['upload_url'], data=data, headers=grant['headers'], timeout=10).status_code == 200
    return str(grant['id'])


@pytest.mark.parametrize(
    ('data', 'content_type', 'inline'),
    [
        (b'\x89PNG\r\n\x1a\n' + b'\0' * 20, 'image/png', True),
        (b'\xff\xd8\xff\xe0' + b'\0' * 20, 'image/jpeg', True),
        (b'GIF89a' + b'\0' * 20, 'image/gif', True),
        (b'RIFF\x10\0\0\0WEBPVP8 ' + b'\0' * 10, 'image/webp', True),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/png', False),
        (b'<html><script>alert(1)</script></html>', 'image/gif', False),
        (b'GIF89a' + b'\0' * 20, 'image/png', False),
    ],
)
def test_an_image_is_served_inline_only_when_its_bytes_are_that_image(aws, data, content_type, inline):
    # Given an upload that claims to be an image
    upload_id = _upload(data, content_type, 'picture')
    # When it is downloaded
    status, headers, _ = call('GET', f'/attachments/{upload_id}', claims=AGENT)
    assert status == 302 and headers['x-content-type-options'] == 'nosniff'
    served = requests.get(headers['location'], timeout=10)
    # Then a real image is shown inline as itself; anything else downloads as bytes
    disposition = served.headers['Content-Disposition']
    if inline:
        assert disposition.startswith('inline') and served.headers['Content-Type'] == content_type
    else:
        assert disposition.startswith('attachment') and served.headers['Content-Type'] == 'application/octet-stream'
    assert served.content == data
