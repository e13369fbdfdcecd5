"""Threading by reply token (where a token is found, what it takes to trust it) and the acknowledgement's text."""

from __future__ import annotations

import pytest

from inboxdesk.logic import threading
from inboxdesk.logic.acknowledgements import render, skip_reason
from inboxdesk.models import Participant
from tests.unit.logic.test_rules import _ticket, mail

TOKEN = '01jf3k6m7c9q2x8d4t5v6w7y8z' + 'hx2k9m4p7q1rs'  # the shape only: verification is the caller's
OTHER = '01jf3k6m7c9q2x8d4t5v6w7y90' + 'hx2k9m4p7q1rs'


def test_tokens_are_found_in_plus_parts_then_references_then_the_body_once_each():
    # Given a mail carrying tokens in every place, one of them twice
    email = mail(
        f'From: a@c.test\nTo: support+{TOKEN}@inboxdesk.test\nDelivered-To: support+{TOKEN.upper()}@inboxdesk.test\n'
        f'Subject: s\nMessage-ID: <m@c>\nReferences: <ref-{OTHER}@inboxdesk.test>',
        body=f'> [ref:{OTHER}]',
    )
    # When the candidates are listed, with an envelope recipient carrying none
    found = threading.reply_token_candidates(email, ['support@inboxdesk.test'])
    # Then the plus part comes first (its case folded), then References; the body's repeat adds nothing
    assert found == [('address', TOKEN), ('references', OTHER)]


def test_a_mail_without_a_token_has_no_candidates():
    email = mail('From: a@c.test\nTo: support+sales@inboxdesk.test\nSubject: [ref:short]\nMessage-ID: <m@c>')
    assert threading.reply_token_candidates(email, ['support+x@inboxdesk.test']) == []


@pytest.mark.parametrize(
    ('tokens', 'sender', 'expected'),
    [
        ([('address', 't-token')], 'mallory@evil.test', ('t-token', 'reply-token')),
        ([('references', 't-token')], 'mallory@evil.test', ('t-token', 'reply-token')),
        ([('body', 't-token')], 'alice@c.test', ('t-token', 'reply-token')),
        ([('body', 't-token')], 'Bob@C.test', ('t-token', 'reply-token')),
        ([('body', 't-token')], 'mallory@evil.test', (None, 'new')),
        ([('body', 't-gone')], 'alice@c.test', (None, 'new')),
    ],
)
def test_a_verified_token_threads_and_a_quoted_one_only_from_a_participant(tokens, sender, expected):
    # Given ticket t-token of Alice with Bob in CC, and a mail naming nothing we know
    email = mail(f'From: {sender}\nSubject: hello\nMessage-ID: <m@c>')
    ticket = _ticket('t-token', customer='alice@c.test', ccs=['bob@c.test'])
    # When the rules decide with the verified tokens
    decision = threading.decide(
        email,
        pointers={},
        tagged_ticket=lambda: None,
        dmarc_failed=False,
        tokens=tokens,
        token_ticket=lambda ticket_id: ticket if ticket_id == ticket.id else None,
    )
    # Then a plus part or References threads, a quoted token only from the customer or a CC
    assert (decision.ticket_id, decision.rule) == expected


def test_headers_still_win_over_a_token():
    email = mail('From: a@c.test\nSubject: s\nMessage-ID: <m@c>\nIn-Reply-To: <b@x>')
    decision = threading.decide(
        email,
        pointers={'b@x': 't-headers'},
        tagged_ticket=lambda: None,
        dmarc_failed=False,
        tokens=[('address', 't-token')],
    )
    assert (decision.ticket_id, decision.rule) == ('t-headers', 'headers')


def test_the_template_fills_only_its_three_placeholders():
    text = render(
        'Hi {customer_name}: #{ticket_number} "{title}" {name} {title.__class__} {0} {{title}}',
        ticket_number=42,
        title='Printer\r\n  on fire',
        customer_name='Ada\r\nBcc: x@evil.test',
    )
    assert text == 'Hi Ada Bcc: x@evil.test: #42 "Printer on fire" {name} {title.__class__} {0} {Printer on fire}'


def test_the_default_template_when_the_queue_has_none():
    for template in (None, ''):
        text = render(template, ticket_number=7, title='Invoice', customer_name='')
        assert text.startswith('Hello there,') and '#7' in text and '"Invoice"' in text


@pytest.mark.parametrize(
    ('headers', 'skipped'),
    [
        ('Auto-Submitted: auto-replied', True),
        ('Precedence: junk', True),
        ('Precedence: bulk', True),
        ('List-Id: <news.c.test>', True),
        ('X-Autoreply: yes', True),
        ('Auto-Submitted: no', False),
    ],
)
def test_automatic_mail_is_never_acknowledged(headers, skipped):
    email = mail(f'From: a@c.test\nSubject: Question\nMessage-ID: <m@c>\n{headers}')
    assert (skip_reason(email, Participant('A', 'a@c.test')) is not None) is skipped
