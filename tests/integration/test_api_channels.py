"""Outbound channels (admins) and the queues' `reply_via`, through the real API handler on the embedded AWS."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.support.api import ADMIN, AGENT, call

VERIFIED_DOMAIN = 'help.inboxdesk.test'


@pytest.fixture
def ses_domain(aws):
    boto3.client('sesv2').create_email_identity(EmailIdentity=VERIFIED_DOMAIN)
    return VERIFIED_DOMAIN


def _ses_channel(address: str = f'support@{VERIFIED_DOMAIN}', name: str = 'Acme Support') -> dict[str, Any]:
    status, headers, body = call(
        'POST', '/channels', claims=ADMIN, body={'kind': 'ses', 'from_address': address, 'display_name': name}
    )
    assert status == 201, body
    assert headers['location'] == f'/channels/{body["id"]}'
    return dict(body)


def test_ses_channel_crud_by_an_admin(ses_domain):
    # Given an admin creates an ses channel on the verified domain
    channel = _ses_channel()
    assert (channel['kind'], channel['status'], channel['smtp']) == ('ses', 'active', None)
    # When they list, read and rename it
    assert [c['id'] for c in call('GET', '/channels', claims=ADMIN)[2]['items']] == [channel['id']]
    assert call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[2]['display_name'] == 'Acme Support'
    status, _, changed = call('PATCH', f'/channels/{channel["id"]}', claims=ADMIN, body={'display_name': 'Acme Help'})
    # Then the change is kept, and a delete removes it
    assert status == 200 and changed['display_name'] == 'Acme Help'
    assert call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[2]['display_name'] == 'Acme Help'
    assert call('DELETE', f'/channels/{channel["id"]}', claims=ADMIN)[0] == 204
    assert call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[0] == 404


def test_agents_may_not_see_or_change_channels(ses_domain):
    channel = _ses_channel()
    for method, path in (
        ('GET', '/channels'),
        ('POST', '/channels'),
        ('GET', f'/channels/{channel["id"]}'),
        ('PATCH', f'/channels/{channel["id"]}'),
        ('DELETE', f'/channels/{channel["id"]}'),
        ('POST', f'/channels/{channel["id"]}/test'),
    ):
        assert call(method, path, claims=AGENT, body={})[0] == 403, (method, path)


def test_ses_from_must_be_on_a_verified_identity(ses_domain):
    # When the From is on a domain SES does not know, Then the save is refused with the reason
    status, _, problem = call('POST', '/channels', claims=ADMIN, body={'kind': 'ses', 'from_address': 'a@other.test'})
    assert status == 422 and 'other.test is not a verified SES identity' in problem['detail']
    # A subdomain's address is fine when the parent domain is verified; an address identity is enough too
    assert _ses_channel(f'x@eu.{VERIFIED_DOMAIN}')['status'] == 'active'
    boto3.client('sesv2').create_email_identity(EmailIdentity='someone@elsewhere.test')
    assert _ses_channel('someone@elsewhere.test')['status'] == 'active'
    # Changing a channel's From to an unverified domain is refused as well, and the channel is unchanged
    channel = _ses_channel()
    status, _, problem = call(
        'PATCH', f'/channels/{channel["id"]}', claims=ADMIN, body={'from_address': 'b@nowhere.test'}
    )
    assert status == 422 and 'nowhere.test' in problem['detail']
    assert call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[2]['from_address'] == f'support@{VERIFIED_DOMAIN}'


def test_ses_channel_test_reports_the_identity(ses_domain):
    channel = _ses_channel()
    # Given the domain is verified, the test passes
    status, _, result = call('POST', f'/channels/{channel["id"]}/test', claims=ADMIN)
    assert status == 200 and result['ok'] and result['channel']['status'] == 'active'
    # When the identity is removed from SES, Then the test says so and the channel needs attention
    boto3.client('sesv2').delete_email_identity(EmailIdentity=VERIFIED_DOMAIN)
    status, _, result = call('POST', f'/channels/{channel["id"]}/test', claims=ADMIN)
    assert status == 200 and not result['ok'] and result['stage'] == 'identity'
    shown = call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[2]
    assert shown['status'] == 'needs_attention' and VERIFIED_DOMAIN in shown['status_reason']


@pytest.mark.parametrize(
    ('body', 'where'),
    [
        ({'kind': 'gmail', 'from_address': f'a@{VERIFIED_DOMAIN}'}, 'connecting the mailbox'),
        ({'kind': 'o365', 'from_address': f'a@{VERIFIED_DOMAIN}'}, 'connecting the mailbox'),
        ({'kind': 'carrier-pigeon', 'from_address': f'a@{VERIFIED_DOMAIN}'}, 'kind must be one of ses, smtp'),
        ({'kind': 'ses', 'from_address': f'a@{VERIFIED_DOMAIN}\r\nBcc: x@evil.test'}, 'from_address'),
        (
            {'kind': 'ses', 'from_address': f'a@{VERIFIED_DOMAIN}', 'display_name': 'A\r\nBcc: x@evil.test'},
            'display_name',
        ),
        ({'kind': 'ses', 'from_address': f'a@{VERIFIED_DOMAIN}', 'password': 'x'}, 'password'),
        ({'kind': 'smtp', 'from_address': f'a@{VERIFIED_DOMAIN}'}, 'smtp'),
        (
            {
                'kind': 'smtp',
                'from_address': f'a@{VERIFIED_DOMAIN}',
                'smtp': {'host': 'mail.example.com', 'port': 8025, 'username': 'u', 'password': 'p'},
            },
            'smtp.port',
        ),
        (
            {
                'kind': 'smtp',
                'from_address': f'a@{VERIFIED_DOMAIN}',
                'smtp': {'host': 'mail.example.com', 'tls_mode': 'none', 'username': 'u', 'password': 'p'},
            },
            'smtp.tls_mode',
        ),
    ],
)
def test_bad_channels_are_refused_with_the_field(ses_domain, body, where):
    status, _, problem = call('POST', '/channels', claims=ADMIN, body=body)
    assert status == 422 and where in problem['detail'], problem
    assert call('GET', '/channels', claims=ADMIN)[2]['items'] == []


def test_reply_via_names_an_existing_channel(ses_domain):
    channel = _ses_channel()
    # An unknown id, and anything that is not an id (CR/LF would have become the From header), are refused
    for reply_via in ('NOPE', 'support@x.test\r\nBcc: a@b.test', 'x' * 300):
        status, _, problem = call('POST', '/queues', claims=ADMIN, body={'name': 'Q', 'reply_via': reply_via})
        assert status == 422 and 'reply_via' in problem['detail'], problem
    # An existing channel is accepted, and a PATCH back to null means SES with the stack's default
    status, _, queue = call('POST', '/queues', claims=ADMIN, body={'name': 'Billing', 'reply_via': channel['id']})
    assert status == 201 and queue['reply_via'] == channel['id']
    status, _, problem = call('PATCH', f'/queues/{queue["id"]}', claims=ADMIN, body={'reply_via': 'GONE'})
    assert status == 422 and 'reply_via' in problem['detail']
    assert call('PATCH', f'/queues/{queue["id"]}', claims=ADMIN, body={'reply_via': None})[2]['reply_via'] is None


def test_a_channel_in_use_is_not_deleted(ses_domain):
    # Given two queues reply through a channel
    channel = _ses_channel()
    for name in ('Sales', 'Billing'):
        assert call('POST', '/queues', claims=ADMIN, body={'name': name, 'reply_via': channel['id']})[0] == 201
    # When an admin deletes it, Then it is refused with the queues' names, and the channel stays
    status, _, problem = call('DELETE', f'/channels/{channel["id"]}', claims=ADMIN)
    assert status == 409 and 'Billing, Sales' in problem['detail']
    assert call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[0] == 200


def test_a_channels_from_address_joins_the_outgoing_filter_and_stays(ses_domain):
    # Given a channel, and a queue replying through it
    channel = _ses_channel(address=f'Help@{VERIFIED_DOMAIN}')
    assert call('POST', '/queues', claims=ADMIN, body={'name': 'Billing', 'reply_via': channel['id']})[0] == 201
    # When an agent reads the outgoing filter
    status, headers, body = call('GET', '/settings/outgoing-filter', claims=AGENT)
    # Then the channel's From address is in it, not removable, naming the queue that uses it
    assert status == 200
    [entry] = [e for e in body['entries'] if e['address'] == f'help@{VERIFIED_DOMAIN}']
    assert entry == {
        'address': f'help@{VERIFIED_DOMAIN}',
        'source': 'channel',
        'removable': False,
        'used_by': ['Billing'],
    }
    # And an admin cannot leave it out
    status, _, problem = call(
        'PUT', '/settings/outgoing-filter', claims=ADMIN, body={'addresses': []}, headers={'If-Match': headers['etag']}
    )
    assert status == 409 and f'help@{VERIFIED_DOMAIN}' in problem['detail']


def test_channels_are_in_the_openapi_document(aws):
    document = call('GET', '/openapi.json')[2]
    assert set(document['paths']['/channels']) == {'get', 'post'}
    assert set(document['paths']['/channels/{channel_id}']) == {'get', 'patch', 'delete'}
    assert 'password' not in document['components']['schemas']['Channel']['properties']
    assert document['components']['schemas']['SmtpSettingsIn']['properties']['password']['writeOnly'] is True
