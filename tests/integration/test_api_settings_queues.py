"""Queues (admins), the outgoing filter and appearance settings, through the real handler."""

from typing import Any

import pytest

from tests.support.api import ADMIN, AGENT, call


def _queue(name: str = 'Support', addresses: Any = ('support@example.com',), **extra: Any) -> dict[str, Any]:
    status, headers, body = call(
        'POST', '/queues', claims=ADMIN, body={'name': name, 'inbound_addresses': list(addresses), **extra}
    )
    assert status == 201, body
    assert headers['location'] == f'/queues/{body["id"]}'
    return dict(body)


def test_queue_crud_by_an_admin(aws):
    # Given two queues; the first becomes the default
    first = _queue()
    second = _queue('Billing', ['billing@example.com'], colour='#00aa11', auto_acknowledge={'enabled': True})
    assert first['is_default'] and not second['is_default'] and second['auto_acknowledge']['enabled']
    # When an admin changes the second's name and makes it default
    status, _, changed = call(
        'PATCH', f'/queues/{second["id"]}', claims=ADMIN, body={'name': 'Invoices', 'is_default': True}
    )
    # Then agents see the change and the default moved
    assert status == 200 and changed['name'] == 'Invoices'
    listed = {q['name']: q for q in call('GET', '/queues', claims=AGENT)[2]['items']}
    assert listed['Invoices']['is_default'] and not listed['Support']['is_default']
    assert call('GET', f'/queues/{first["id"]}', claims=AGENT)[2]['name'] == 'Support'
    # When an admin deletes the queue that is not the default, Then it is gone
    assert call('DELETE', f'/queues/{first["id"]}', claims=ADMIN)[0] == 204
    assert call('GET', f'/queues/{first["id"]}', claims=AGENT)[0] == 404


def test_queue_conflicts_and_validation(aws):
    first = _queue()
    # An address can belong to one queue only
    status, _, problem = call(
        'POST', '/queues', claims=ADMIN, body={'name': 'X', 'inbound_addresses': ['support@example.com']}
    )
    assert status == 409 and 'support@example.com' in problem['detail']
    # A queue with tickets is not deleted, and says why
    assert (
        call('POST', '/tickets', claims=AGENT, body={'customer': 'c@example.org', 'title': 't', 'text': 'x'})[0] == 201
    )
    status, _, problem = call('DELETE', f'/queues/{first["id"]}', claims=ADMIN)
    assert status == 409 and 'tickets' in problem['detail']
    # Bad input is a 422 problem
    for body in (
        {'name': ''},
        {'name': 'A', 'colour': 'red'},
        {'name': 'A', 'inbound_addresses': ['x']},
        {'name': 'A', 'secret': 1},
    ):
        assert call('POST', '/queues', claims=ADMIN, body=body)[0] == 422, body
    assert call('PATCH', '/queues/NOPE', claims=ADMIN, body={'name': 'A'})[0] == 404
    assert call('DELETE', '/queues/NOPE', claims=ADMIN)[0] == 404


def test_outgoing_filter_keeps_inbound_addresses_while_in_use(aws):
    queue = _queue(addresses=['support@example.com'])
    # Given the filter lists the queue's inbound address automatically
    status, headers, body = call('GET', '/settings/outgoing-filter', claims=AGENT)
    assert status == 200
    assert body['entries'] == [
        {'address': 'support@example.com', 'source': 'inbound-address', 'removable': False, 'used_by': ['Support']}
    ]
    # When an admin adds a manual address
    status, headers, body = call(
        'PUT',
        '/settings/outgoing-filter',
        claims=ADMIN,
        body={'addresses': ['support@example.com', 'Noreply@Vendor.example']},
        headers={'If-Match': headers['etag']},
    )
    assert status == 200 and {e['address']: e['removable'] for e in body['entries']} == {
        'support@example.com': False,
        'noreply@vendor.example': True,
    }
    # Then leaving out the in-use inbound address is refused, naming the queue
    status, _, problem = call('PUT', '/settings/outgoing-filter', claims=ADMIN, body={'addresses': []})
    assert status == 409 and 'Support' in problem['detail']
    # And a stale If-Match is 412
    assert (
        call(
            'PUT',
            '/settings/outgoing-filter',
            claims=ADMIN,
            body={'addresses': ['support@example.com']},
            headers={'If-Match': '"0"'},
        )[0]
        == 412
    )
    # When the queue gives the address up, Then it can leave the filter
    call('PATCH', f'/queues/{queue["id"]}', claims=ADMIN, body={'inbound_addresses': ['help@example.com']})
    status, _, body = call('PUT', '/settings/outgoing-filter', claims=ADMIN, body={'addresses': ['help@example.com']})
    assert status == 200 and [e['address'] for e in body['entries']] == ['help@example.com']


def test_appearance_round_trip_and_validation(aws):
    # Given the defaults
    status, headers, body = call('GET', '/settings/appearance', claims=AGENT)
    assert status == 200 and body['logo_url'] is None and headers['etag'] == '"0"'
    # When an admin sets signature, colours and logo
    wanted = {
        'signature_text': '-- The Support Team',
        'signature_html': '<p>The Support Team</p>',
        'primary_colour': '#123456',
        'accent_colour': '#abcdef',
        'logo_url': 'https://cdn.example.com/logo.png',
    }
    status, headers, body = call('PUT', '/settings/appearance', claims=ADMIN, body=wanted)
    # Then everyone reads it back
    assert status == 200 and body == wanted and headers['etag'] == '"1"'
    assert call('GET', '/settings/appearance', claims=AGENT)[2] == wanted


def test_a_script_in_the_signature_is_never_stored_or_served(aws):
    # Given an admin saving a signature with a script, an event handler and a javascript: link
    signature = (
        '<p style="color:#123456">The <b>Support</b> Team</p><script>steal()</script>'
        '<img src="x" onerror="steal()"><a href="javascript:steal()">site</a>'
    )
    status, _, body = call('PUT', '/settings/appearance', claims=ADMIN, body={'signature_html': signature})
    # Then what is answered and what every agent reads back keeps the styled text and none of the script
    assert status == 200
    for served in (body, call('GET', '/settings/appearance', claims=AGENT)[2]):
        html = served['signature_html']
        assert 'The <b>Support</b> Team' in html and 'color:#123456' in html
        assert 'script' not in html and 'onerror' not in html and 'javascript:' not in html


@pytest.mark.parametrize(
    'body',
    [
        {'primary_colour': 'blue'},
        {'logo_url': 'http://insecure.example/logo.png'},
        {'logo_url': 'javascript:alert(1)'},
        {'signature_text': 'x' * 6000},
        {'smtp_password': 'hunter2'},
    ],
)
def test_appearance_validation(aws, body):
    status, _, problem = call('PUT', '/settings/appearance', claims=ADMIN, body=body)
    assert status == 422 and problem['errors']


def test_invalid_json_body_is_a_problem(aws):
    # A body that cannot be read at all is a 400 (a readable one that breaks a rule is a 422)
    status, headers, problem = call('PUT', '/settings/appearance', claims=ADMIN, raw_body='{not json')
    assert status == 400 and headers['content-type'] == 'application/problem+json'
