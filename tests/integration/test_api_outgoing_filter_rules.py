"""The outgoing filter as admins save it and as replies meet it, through the real API handler."""

from __future__ import annotations

import pytest

from tests.support.api import ADMIN, AGENT, call, open_ticket


@pytest.fixture
def ticket(aws):
    return open_ticket()


def _put(addresses):
    return call('PUT', '/settings/outgoing-filter', claims=ADMIN, body={'addresses': addresses})


@pytest.mark.parametrize(
    'entry', ['*@competitor.test', 'sales*@competitor.test', '@*.competitor.test', 'competitor.test']
)
def test_wildcards_other_than_whole_domains_are_refused_when_saved(ticket, entry):
    # When an admin saves an entry that would never be applied
    # Then it is refused, naming the entry, and nothing is stored
    status, _, problem = _put(['support@inboxdesk.test', entry])
    assert status == 422 and 'addresses' in problem['detail'] and entry in problem['detail']
    entries = call('GET', '/settings/outgoing-filter', claims=AGENT)[2]['entries']
    assert [e['address'] for e in entries] == ['support@inboxdesk.test']


def test_a_whole_domain_and_our_own_address_in_any_form_are_never_mailed(ticket):
    # Given the filter names a whole domain
    status, _, body = _put(['support@inboxdesk.test', '@Competitor.TEST'])
    assert status == 200 and '@competitor.test' in [e['address'] for e in body['entries']]
    # When an agent replies with a CC at that domain, or to our own inbound address written differently
    for cc in ('spy@competitor.test', 'Support+x@INBOXDESK.test.'):
        status, _, problem = call(
            'POST', f'/tickets/{ticket["id"]}/replies', claims=AGENT, body={'text': 'hi', 'cc': [cc]}
        )
        # Then the reply is refused, naming the address
        assert status == 422 and cc.lower().rstrip('.') in problem['detail'].lower(), problem
    # And a CC elsewhere is fine
    status, _, reply = call(
        'POST', f'/tickets/{ticket["id"]}/replies', claims=AGENT, body={'text': 'hi', 'cc': ['boss@customer.test']}
    )
    assert status == 202, reply
