"""The recipient filter: who an outgoing mail may go to (pure rules)."""

from __future__ import annotations

import pytest

from inboxdesk.ids import normalise_address as normalise
from inboxdesk.logic.recipients import FilterEntryError, RecipientFilter, deliverable, filter_entry

RULES = RecipientFilter(
    blocked_addresses=frozenset({'blocked@customer.test'}),
    blocked_domains=frozenset({'@competitor.test', '@xn--bcher-kva.test'}),
    own_addresses=frozenset({'support@inboxdesk.test'}),
    undeliverable={'gone@customer.test': 'bounce'},
)


@pytest.mark.parametrize(
    ('written', 'normalised'),
    [
        ('Support+x@INBOXDESK.test.', 'support@inboxdesk.test'),
        (' <Jane.Doe@Example.COM> ', 'jane.doe@example.com'),
        ('kunde@Bücher.test', 'kunde@xn--bcher-kva.test'),
        ('a+b+c@x.test', 'a@x.test'),
    ],
)
def test_addresses_are_compared_normalised(written, normalised):
    assert normalise(written) == normalised


@pytest.mark.parametrize(
    ('recipient', 'reason'),
    [
        ('Support+x@INBOXDESK.test.', 'one of our own addresses'),
        ('BLOCKED+tag@customer.test', 'in the outgoing email filter'),
        ('anyone@Competitor.TEST.', 'its domain is in the outgoing email filter'),
        ('leser@bücher.test', 'its domain is in the outgoing email filter'),
        ('MAILER-DAEMON@mx.customer.test', 'mailer-daemon is a system address'),
        ('postmaster@customer.test', 'postmaster is a system address'),
        ('noreply@shop.test', 'a no-reply address'),
        ('no-reply@shop.test', 'a no-reply address'),
        ('No_Reply@shop.test', 'a no-reply address'),
        ('do-not-reply@shop.test', 'a no-reply address'),
        ('donotreply@shop.test', 'a no-reply address'),
        ('bounce@shop.test', 'a no-reply address'),
        ('bounces+abc=x.test@lists.shop.test', 'a no-reply address'),
        ('bounce-1234@shop.test', 'a no-reply address'),
        ('shop.noreply@shop.test', 'a no-reply address'),
        ('daemon@shop.test', 'daemon is a system address'),
        ('Gone@Customer.test', 'marked undeliverable (bounce)'),
        ('not-an-address', 'not an email address'),
    ],
)
def test_each_rule_drops_with_its_reason(recipient, reason):
    # When one recipient that a rule catches is checked, Then it is dropped with that rule's reason
    assert deliverable([recipient], RULES) == ([], [(recipient, reason)])


def test_people_are_kept_once_in_order():
    # Given customers, one written twice in different forms, and people whose names merely contain a rule's word
    recipients = [
        'Jane@Customer.test',
        'bob@customer.test',
        'jane+x@customer.test',
        'replyteam@shop.test',
        'ann.bouncer@x.test',
    ]
    kept, dropped = deliverable(recipients, RULES)
    # Then each person is kept once, as first written, and nobody is dropped
    assert kept == ['Jane@Customer.test', 'bob@customer.test', 'replyteam@shop.test', 'ann.bouncer@x.test']
    assert dropped == []


@pytest.mark.parametrize(
    ('entry', 'stored'),
    [
        ('@Example.COM', '@example.com'),
        ('Someone+x@Example.com.', 'someone@example.com'),
        ('@bücher.test', '@xn--bcher-kva.test'),
    ],
)
def test_filter_entries_are_addresses_or_whole_domains(entry, stored):
    assert filter_entry(entry) == stored


@pytest.mark.parametrize(
    'entry',
    [
        '*@example.com',
        'sales*@example.com',
        '@*.example.com',
        'a%@x.test',
        'example.com',
        '@',
        'a b@x.test',
        '@localhost',
    ],
)
def test_other_wildcards_and_non_addresses_are_refused(entry):
    with pytest.raises(FilterEntryError):
        filter_entry(entry)
