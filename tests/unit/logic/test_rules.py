"""Routing, loop and threading rules, and the notice shapes: pure functions, no AWS."""

from __future__ import annotations

import json

import pytest

from inboxdesk import notices
from inboxdesk.ids import normalise_address, normalise_rfc_id
from inboxdesk.logic import loops, routing, threading
from inboxdesk.logic.ingest import description_of, title_of
from inboxdesk.mail import read_email
from inboxdesk.mail.model import Address, ParsedEmail
from inboxdesk.models import Participant, Ticket, Verdicts
from tests.conftest import FIXTURES
from tests.support.events import ses_receipt_notice

EVENTS = FIXTURES / 'events'


def mail(headers: str, body: str = 'hello') -> ParsedEmail:
    return read_email((headers.strip() + '\r\n\r\n' + body).replace('\n', '\r\n').encode())


def test_addresses_compare_without_case_or_plus_tag():
    assert normalise_address(' Support+EU@InboxDesk.Test ') == 'support@inboxdesk.test'
    assert normalise_rfc_id(' <Abc.1@Host> ') == 'Abc.1@Host'


def test_routing_tries_envelope_then_delivered_to_original_to_to_cc():
    # Given a mail whose headers name several addresses
    email = mail(
        'From: a@customer.test\nTo: To@x.test\nCc: cc@x.test\nDelivered-To: delivered@x.test\n'
        'X-Original-To: original@x.test\nSubject: s\nMessage-ID: <1@x>'
    )
    # When the candidates are listed with an envelope recipient
    candidates = routing.candidate_recipients(email, ['Envelope+tag@X.test'])
    # Then they come in routing order, normalised
    assert candidates == ['envelope@x.test', 'delivered@x.test', 'original@x.test', 'to@x.test', 'cc@x.test']
    # And the first known address wins, else the default
    queues = {'to@x.test': 'to-queue', 'cc@x.test': 'cc-queue'}
    assert routing.choose_queue(candidates, queues, 'default') == ('to-queue', 'address:to@x.test')
    assert routing.choose_queue(['zzz@x.test'], queues, 'default') == ('default', 'default')
    assert routing.choose_queue(['zzz@x.test'], queues, None) == (None, 'default')


def test_loops_by_header_own_address_and_own_domain():
    own = {'support@inboxdesk.test'}
    assert loops.loop_reason(mail('From: x@customer.test\nX-Inboxdesk-Loop: 1\nSubject: s'), own, ()) == 'loop-header'
    assert loops.loop_reason(mail('From: Support+x@inboxdesk.test\nSubject: s'), own, ()) == 'own-address'
    assert loops.loop_reason(mail('From: anyone@help.example\nSubject: s'), own, ('help.example',)) == 'own-address'
    assert loops.loop_reason(mail('From: alice@customer.test\nSubject: s'), own, ('help.example',)) is None
    # And CC participants never include our own addresses, nor the same person twice
    people = [Address('S', 'support@inboxdesk.test'), Address('B', 'bob@c.test'), Address('B2', 'BOB@c.test')]
    assert [a.address for a in loops.external(people, own, ())] == ['bob@c.test']


def test_subject_tag_and_referenced_ids():
    assert threading.subject_tag('Re: [#1042] Printer') == 1042
    assert threading.subject_tag('Re: [# 1042] Printer') is None
    assert threading.subject_tag('Invoice #1042') is None
    email = mail(
        'From: a@c.test\nSubject: s\nMessage-ID: <own@c>\nIn-Reply-To: <b@x>\nReferences: <a@x> <b@x> <own@c> <c@x>'
    )
    assert threading.referenced_ids(email) == ['b@x', 'c@x', 'a@x']


@pytest.mark.parametrize(
    ('pointers', 'sender', 'dmarc_failed', 'expected'),
    [
        ({'b@x': 't-headers'}, 'alice@c.test', False, ('t-headers', 'headers')),
        ({}, 'Alice@C.test', False, ('t-tagged', 'subject-tag')),
        ({}, 'bob@c.test', False, ('t-tagged', 'subject-tag')),
        ({}, 'mallory@evil.test', False, (None, 'new')),
        ({}, 'alice@c.test', True, (None, 'new')),
        ({'b@x': 't-headers'}, 'mallory@evil.test', True, ('t-headers', 'headers')),
    ],
)
def test_threading_order(pointers, sender, dmarc_failed, expected):
    # Given a mail answering <b@x> with the tag [#7] from `sender`, and ticket #7 of Alice with Bob in CC
    email = mail(f'From: {sender}\nSubject: Re: [#7] x\nMessage-ID: <m@c>\nIn-Reply-To: <b@x>')
    tagged = _ticket('t-tagged', customer='alice@c.test', ccs=['bob@c.test'])
    reads: list[str] = []

    def read_tagged() -> Ticket:
        reads.append(tagged.id)
        return tagged

    # When the threading rules decide
    decision = threading.decide(email, pointers=pointers, tagged_ticket=read_tagged, dmarc_failed=dmarc_failed)
    # Then headers win, the tag needs a participant and no DMARC failure, otherwise a new ticket
    assert (decision.ticket_id, decision.rule) == expected
    # And the tagged ticket is read only when the tag could decide
    assert reads == ([] if decision.rule == 'headers' or dmarc_failed else ['t-tagged'])


def _ticket(ticket_id: str, *, customer: str, ccs: list[str]) -> Ticket:
    return Ticket(
        id=ticket_id,
        number=7,
        title='x',
        description='',
        status='open',
        queue_id='q',
        customer=Participant('', customer),
        participants=tuple(Participant('', cc) for cc in ccs),
        assignee=None,
        priority='normal',
        created_at='2026-11-27T08:00:00Z',
        last_activity_at='2026-11-27T08:00:00Z',
        message_count=1,
        verdicts=Verdicts(),
        version=1,
    )


def test_title_and_description_are_cut_sensibly():
    assert title_of('  Re:   Printer\n on fire ') == 'Re: Printer on fire'
    assert title_of('') == '(no subject)'
    assert len(title_of('x' * 500)) == 200
    text = ('word ' * 400).strip()
    description = description_of(text)
    assert description.endswith('…') and len(description) <= 1001 and ' wor…' not in description


def test_notice_shapes():
    # SNS-wrapped SES notice (the documented example), raw delivery, poller job, S3 test event, S3 record
    wrapped = notices.parse_notice((EVENTS / 'ses_notice.json').read_text())
    assert wrapped is not None and wrapped.source == 'ses'
    assert (wrapped.bucket, wrapped.key, wrapped.ses_message_id) == (
        'inboxdesk-mail-local',
        'raw/d6iitobk75ur44p8kdnnp7g2n800',
        'd6iitobk75ur44p8kdnnp7g2n800',
    )
    assert wrapped.recipients == ('support@inboxdesk.test',) and wrapped.verdicts.spf == 'PASS'
    raw = ses_receipt_notice(
        bucket='b',
        key='raw/k1',
        recipients=['s@x.test'],
        source='a@c.test',
        verdicts={'virus': 'FAIL'},
        raw_delivery=True,
    )
    parsed = notices.parse_notice(json.dumps(raw))
    assert parsed is not None and parsed.verdicts.virus_failed and parsed.ses_message_id == 'k1'
    job = notices.parse_notice(notices.mailbox_job(bucket='b', key='raw/m1', mailbox_id='mbx'))
    assert job is not None and (job.source, job.mailbox_id, job.ses_message_id) == ('mailbox', 'mbx', None)
    assert notices.parse_notice((EVENTS / 's3_test_event.json').read_text()) is None
    s3 = {'Records': [{'s3': {'bucket': {'name': 'b'}, 'object': {'key': 'raw/with+space%21'}}}]}
    record = notices.parse_notice(s3)
    assert record is not None and record.key == 'raw/with space!'
    for garbage in ('not json', '[]', '{"hello": 1}'):
        with pytest.raises(notices.UnknownNoticeError):
            notices.parse_notice(garbage)


def test_message_ids_we_make_carry_a_ticket_hint():
    from inboxdesk.ids import new_id

    ticket_id = new_id()
    made = threading.make_message_id(ticket_id, 'inboxdesk.test')
    assert made.startswith(f'<{ticket_id}.') and made.endswith('@inboxdesk.test>')
    other = threading.make_message_id(new_id(), 'inboxdesk.test')
    assert threading.ticket_hints([normalise_rfc_id(made), 'abc@x', normalise_rfc_id(other)]) == [
        ticket_id,
        other[1:27],
    ]
    assert threading.ticket_hints(['CAF123.456@mail.gmail.com', 'lowercase01m8dyhgt92n2y8qkkdzx7hv.x@y']) == []


def test_without_an_event_bus_events_are_skipped_and_that_is_said_once(monkeypatch):
    # Given a deploy without EVENT_BUS_NAME
    import logging

    from inboxdesk import events, resources
    from inboxdesk.config import inbound_settings
    from inboxdesk.observability import logger

    monkeypatch.setenv(resources.ENV_TABLE, 'inboxdesk-local')
    monkeypatch.setenv(resources.ENV_MAIL_BUCKET, 'inboxdesk-mail-local')
    monkeypatch.delenv(resources.ENV_EVENT_BUS, raising=False)
    monkeypatch.setattr(events, '_no_bus_logged', False)
    inbound_settings.cache_clear()
    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Lines()
    logger.addHandler(handler)
    try:
        # When two mails' events are published
        results = [events.publish([(events.TICKET_CREATED, {'ticket_id': 't'})]) for _ in range(2)]
    finally:
        logger.removeHandler(handler)  # type: ignore[attr-defined]
        inbound_settings.cache_clear()
    # Then nothing is sent, and one warning says why
    assert results == [False, False]
    assert lines == ['events not published: no event bus configured']
