"""The inbound function end to end: SQS records of SES notices through the real handler, against the
moto server (`aws` fixture), with real raw mail in S3."""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import boto3
import pytest

from inboxdesk import notices
from inboxdesk import resources as r
from inboxdesk.models import Message, Ticket
from tests.conftest import FIXTURES
from tests.support.events import LambdaContext, build_sqs_event, ses_receipt_notice

EVENTS = FIXTURES / 'events'
BUCKET = r.LOCAL_NAMES[r.ENV_MAIL_BUCKET]
SUPPORT = 'support@inboxdesk.test'
SALES = 'sales@inboxdesk.test'
ALICE = 'Alice Customer <alice@customer.test>'


class Outcomes(logging.Handler):
    """Collects the handler's `mail ingested` lines (their structured keys)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.messages: list[str] = []
        self.records: list[logging.LogRecord] = []  # every line, its structured keys as attributes

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.records.append(record)
        if record.getMessage() == 'mail ingested':
            self.lines.append(
                {k: getattr(record, k, None) for k in ('outcome', 'ticket_number', 'queue', 'ticket_id', 's3_key')}
            )


@contextmanager
def collect_outcomes() -> Iterator[Outcomes]:
    from inboxdesk.observability import logger

    collector = Outcomes()
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)  # type: ignore[attr-defined]  # Powertools forwards it to logging


@pytest.fixture
def outcomes() -> Iterator[Outcomes]:
    with collect_outcomes() as collector:
        yield collector


@pytest.fixture
def support(aws):
    """The default queue `Support` (support@inboxdesk.test) and a second queue `Sales`."""
    from inboxdesk.logic import queues

    default = queues.create_queue(name='Support', colour='#2563eb', inbound_addresses=[SUPPORT], is_default=True)
    queues.create_queue(name='Sales', colour='#16a34a', inbound_addresses=[SALES])
    return default


def make_mail(
    *,
    subject: str = 'Printer on fire',
    sender: str = ALICE,
    to: str = SUPPORT,
    cc: str | None = None,
    body: str = 'Hello,\n\nthe printer on floor 2 is on fire.\n\nAlice',
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    inline_image: bytes | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg['From'] = sender
    msg['To'] = to
    if cc:
        msg['Cc'] = cc
    msg['Subject'] = subject
    msg['Date'] = format_datetime(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    msg['Message-ID'] = message_id or make_msgid(domain='customer.test')
    if in_reply_to:
        msg['In-Reply-To'] = in_reply_to
    if references:
        msg['References'] = ' '.join(references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if inline_image is not None:
        msg.add_alternative(f'<p>{body}</p><img src="cid:logo@customer.test">', subtype='html')
        html_part: Any = msg.get_payload()[1]  # type: ignore[index]
        html_part.add_related(inline_image, 'image', 'png', cid='<logo@customer.test>', filename='logo.png')
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split('/')
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def store_raw(raw: bytes, key: str | None = None) -> str:
    key = key or f'{r.RAW_MAIL_PREFIX}{uuid.uuid4().hex}'
    boto3.client('s3').put_object(Bucket=BUCKET, Key=key, Body=raw)
    return key


def ses_body(key: str, recipients: Sequence[str] = (SUPPORT,), **kwargs: Any) -> dict[str, Any]:
    return ses_receipt_notice(bucket=BUCKET, key=key, recipients=recipients, source='alice@customer.test', **kwargs)


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping passes, as the dev runtime's worker builds it."""
    messages: list[Any] = [
        {
            'MessageId': str(uuid.uuid4()),
            'ReceiptHandle': 'handle',
            'Body': body if isinstance(body, str) else json.dumps(body),
            'Attributes': {'ApproximateReceiveCount': '1', 'SentTimestamp': '1700000000000'},
        }
        for body in bodies
    ]
    return build_sqs_event(
        messages, queue_arn='arn:aws:sqs:eu-west-1:123456789012:inboxdesk-ingest-local', region='eu-west-1'
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    from inbound.handler import lambda_handler

    return dict(lambda_handler(event, LambdaContext(function_name='inboxdesk-inbound-test')))


def deliver(mail: EmailMessage | bytes, recipients: Sequence[str] = (SUPPORT,), **kwargs: Any) -> str:
    """Store the mail as SES would, hand its notice to the function; the raw key."""
    raw = mail if isinstance(mail, bytes) else mail.as_bytes()
    key = store_raw(raw)
    response = handle(sqs_event(ses_body(key, recipients, **kwargs)))
    assert response == {'batchItemFailures': []}
    return key


def all_tickets() -> list[Ticket]:
    from inboxdesk.dal import tickets

    found, _cursor = tickets.list_tickets(limit=200)
    return found


def only_ticket() -> Ticket:
    [ticket] = all_tickets()
    return ticket


def agent_reply(ticket_id: str, message_id: str | None = None) -> Message:
    from inboxdesk.dal import tickets
    from inboxdesk.logic import replies
    from inboxdesk.logic.threading import make_message_id
    from inboxdesk.models import Participant

    message_id = message_id or make_message_id(ticket_id, 'inboxdesk.test')

    ticket = tickets.get_ticket(ticket_id)
    return replies.add_outbound_message(
        ticket_id,
        author='agent@inboxdesk.test',
        sender=Participant('Support', SUPPORT),
        to=[ticket.customer],
        subject=f'Re: [#{ticket.number}] {ticket.title}',
        text='We are on it.',
        rfc_id=message_id,
    )


def test_new_mail_opens_a_ticket_in_the_queue_of_its_address(support, outcomes):
    # Given a customer's mail stored by SES for support@
    # When the inbound function handles its notice
    key = deliver(make_mail())
    # Then there is ticket #1 in Support with the subject as title, the customer linked and the text stored
    from inboxdesk.dal import customers, tickets

    ticket = only_ticket()
    assert (ticket.number, ticket.title, ticket.status, ticket.queue_id) == (1, 'Printer on fire', 'new', support.id)
    assert ticket.customer.email == 'alice@customer.test' and ticket.customer.name == 'Alice Customer'
    assert 'printer on floor 2 is on fire' in ticket.description
    [message] = tickets.list_messages(ticket.id)
    assert message.direction == 'inbound' and message.thread_rule == 'new' and message.raw_key == key
    assert 'on fire' in message.text
    assert customers.get_customer('alice@customer.test').ticket_count == 1
    # And exactly one outcome line says so
    assert outcomes.lines == [
        {'outcome': 'created', 'ticket_number': 1, 'queue': 'Support', 'ticket_id': ticket.id, 's3_key': key}
    ]


def test_the_documented_ses_notice_is_understood(support, outcomes):
    # Given the raw mail at the object key of the SNS-wrapped SES notice of the fixture
    body = (EVENTS / 'ses_notice.json').read_text()
    store_raw(make_mail(message_id='<fixture-1@customer.test>').as_bytes(), key='raw/d6iitobk75ur44p8kdnnp7g2n800')
    # When the function handles that record body as it arrives from SQS
    response = handle(sqs_event(body))
    # Then the mail is a ticket, and the notice's verdicts are on it
    assert response == {'batchItemFailures': []}
    ticket = only_ticket()
    assert ticket.verdicts.dmarc == 'PASS' and ticket.verdicts.virus == 'PASS'
    assert [line['outcome'] for line in outcomes.lines] == ['created']


def test_reply_threads_by_headers_and_reopens_a_solved_ticket(support, outcomes):
    # Given a ticket that an agent answered and then solved
    from inboxdesk.dal import tickets
    from inboxdesk.logic import tickets as ticket_rules

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id)
    ticket = ticket_rules.update_ticket(
        ticket.id, {'status': 'solved'}, expected_version=tickets.get_ticket(ticket.id).version
    )
    # When the customer answers the agent's mail (In-Reply-To our Message-ID), with a new subject
    deliver(make_mail(subject='still burning', in_reply_to=f'<{reply.rfc_id}>', references=[f'<{reply.rfc_id}>']))
    # Then the answer is on the same ticket, threaded by headers, and the ticket is open again
    [same] = all_tickets()
    assert same.id == ticket.id and same.status == 'open' and same.message_count == 3
    messages = tickets.list_messages(ticket.id)
    assert [m.direction for m in messages] == ['inbound', 'outbound', 'inbound']
    assert messages[-1].thread_rule == 'headers'
    assert outcomes.lines[-1]['outcome'] == 'appended' and outcomes.lines[-1]['ticket_number'] == 1


def test_subject_tag_threads_only_for_a_participant(support, outcomes):
    # Given ticket #1 from Alice with Bob in CC
    from inboxdesk.dal import tickets

    deliver(make_mail(cc='Bob Colleague <bob@customer.test>'))
    ticket = only_ticket()
    assert [p.email for p in ticket.participants] == ['bob@customer.test']
    # When Bob writes with the tag in the subject but no threading headers
    deliver(make_mail(sender='Bob Colleague <bob@customer.test>', subject='Re: [#1] Printer on fire'))
    # Then it joins ticket #1 by the subject tag
    assert len(all_tickets()) == 1
    assert tickets.list_messages(ticket.id)[-1].thread_rule == 'subject-tag'
    # When a stranger uses the same tag
    deliver(make_mail(sender='Mallory <mallory@elsewhere.test>', subject='Re: [#1] Printer on fire'))
    # Then that mail opens ticket #2 instead
    assert sorted(t.number for t in all_tickets()) == [1, 2]
    assert [line['outcome'] for line in outcomes.lines] == ['created', 'appended', 'created']


def test_ccs_of_a_reply_join_the_ticket_except_our_own_addresses(support, monkeypatch):
    # Given ticket #1 from Alice answered by an agent, and help.inboxdesk.test as one of our mail domains
    from inboxdesk.config import inbound_settings
    from inboxdesk.dal import tickets

    monkeypatch.setenv(r.ENV_OWN_DOMAINS, 'help.inboxdesk.test')
    inbound_settings.cache_clear()
    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id)
    # When Alice answers with Carol, our Sales queue and an address in our own domain in CC
    cc = 'Carol <Carol@Customer.test>, Sales <SALES@inboxdesk.test>, Desk <agent@help.inboxdesk.test>'
    deliver(make_mail(cc=cc, in_reply_to=f'<{reply.rfc_id}>'))
    inbound_settings.cache_clear()
    # Then Carol takes part in the ticket, our own addresses do not, and Carol's tagged mail now threads
    assert [(p.name, p.email) for p in tickets.get_ticket(ticket.id).participants] == [('Carol', 'carol@customer.test')]
    deliver(make_mail(sender='Carol <carol@customer.test>', subject='Re: [#1] Printer on fire'))
    assert len(all_tickets()) == 1 and tickets.list_messages(ticket.id)[-1].thread_rule == 'subject-tag'


def test_subject_tag_is_ignored_when_dmarc_failed(support):
    # Given ticket #1 from Alice
    deliver(make_mail())
    # When a mail claiming to be Alice, with the tag, fails DMARC
    deliver(make_mail(subject='Re: [#1] Printer on fire'), verdicts={'dmarc': 'FAIL'})
    # Then it is not trusted to join #1: a new ticket
    assert sorted(t.number for t in all_tickets()) == [1, 2]


def test_concurrent_redelivery_makes_one_ticket(support, outcomes):
    # Given one stored mail and its notice delivered to four concurrent invocations (at-least-once delivery)
    key = store_raw(make_mail().as_bytes())
    body = ses_body(key)
    barrier = threading.Barrier(4)
    responses: list[dict[str, Any]] = []

    def invoke() -> None:
        barrier.wait()
        responses.append(handle(sqs_event(body)))

    # When they run at the same time, and once more a day later
    workers = [threading.Thread(target=invoke) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    handle(sqs_event(body))
    # Then there is one ticket with one message; every other delivery was a duplicate
    from inboxdesk.dal import tickets

    assert responses == [{'batchItemFailures': []}] * 4
    ticket = only_ticket()
    assert len(tickets.list_messages(ticket.id)) == 1
    assert sorted(line['outcome'] for line in outcomes.lines) == ['created'] + ['duplicate'] * 4
    assert {line['ticket_id'] for line in outcomes.lines} == {ticket.id}


def test_same_mail_through_two_notices_is_one_message(support, outcomes):
    # Given the same mail stored twice (two SES receipts of one Message-ID, e.g. forwarded twice)
    mail = make_mail(message_id='<same@customer.test>')
    deliver(mail)
    # When the second copy arrives under another key and SES id
    deliver(mail)
    # Then it is recognised by its Message-ID in the queue
    assert only_ticket().message_count == 1
    assert [line['outcome'] for line in outcomes.lines] == ['created', 'duplicate']


def test_bounce_marks_the_outgoing_message_failed(support, outcomes):
    # Given a ticket with an agent's reply that bounced
    from inboxdesk.dal import tickets

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id, '<reply-bounce@inboxdesk.test>')
    bounce = _dsn(original_message_id='<reply-bounce@inboxdesk.test>', recipient='alice@customer.test')
    # When the mailer-daemon's report arrives
    deliver(bounce)
    # Then no ticket is opened, the reply is marked failed with the recipient and the server's explanation,
    # and the report sits on the ticket
    assert len(all_tickets()) == 1
    stored = tickets.get_message(ticket.id, reply.id)
    assert stored.delivery_status == 'failed'
    assert stored.delivery_reason == (
        'bounced: alice@customer.test: 5.1.1 smtp; 550 5.1.1 <alice@customer.test>: '
        'Recipient address rejected: User unknown'
    )
    last = tickets.list_messages(ticket.id)[-1]
    assert last.flags.bounce and last.thread_rule == 'bounce'
    assert outcomes.lines[-1]['outcome'] == 'bounce_linked'


def test_bounce_of_the_id_ses_gave_our_reply_marks_it_failed(support, outcomes):
    # Given an agent's reply that SES sent under its own Message-ID <...@eu-west-1.amazonses.com>
    from inboxdesk.dal import tickets

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id)
    ses_id = '<0102019ab1c2d3e4-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000@eu-west-1.amazonses.com>'
    tickets.mark_delivery(ticket.id, reply.id, status='sent', provider_message_ids=[ses_id])
    # When the recipient's mail server returns it, naming only SES's id
    deliver(_dsn(original_message_id=ses_id, recipient='alice@customer.test'))
    # Then the reply is failed with the failed recipient and the reason, and no ticket is opened
    stored = tickets.get_message(ticket.id, reply.id)
    assert stored.delivery_status == 'failed'
    assert (stored.delivery_reason or '').startswith('bounced: alice@customer.test: 5.1.1 smtp; 550 5.1.1 ')
    assert len(all_tickets()) == 1
    assert outcomes.lines[-1]['outcome'] == 'bounce_linked'


def test_a_delay_report_is_linked_but_does_not_fail_the_reply(support, outcomes):
    # Given an agent's reply that was sent
    from inboxdesk.dal import tickets

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id, '<reply-delay@inboxdesk.test>')
    tickets.mark_delivery(ticket.id, reply.id, status='sent')
    # When a mail server reports that it is still trying (Action: delayed)
    delay = _dsn(original_message_id='<reply-delay@inboxdesk.test>', recipient='alice@customer.test', action='delayed')
    deliver(delay)
    # Then the report sits on the ticket as a bounce, and the reply is still `sent`
    assert len(all_tickets()) == 1
    assert tickets.get_message(ticket.id, reply.id).delivery_status == 'sent'
    last = tickets.list_messages(ticket.id)[-1]
    assert last.flags.bounce and last.thread_rule == 'bounce'
    assert outcomes.lines[-1]['outcome'] == 'bounce_linked'


def _dsn(*, original_message_id: str, recipient: str, action: str = 'failed') -> bytes:
    delayed = action == 'delayed'
    refused = f'550 5.1.1 <{recipient}>: Recipient address\r\n    rejected: User unknown'  # folded, as MTAs do
    subject = 'Delayed Mail (still being retried)' if delayed else 'Undelivered Mail Returned to Sender'
    return (
        'From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\n'
        f'To: {SUPPORT}\r\n'
        f'Subject: {subject}\r\n'
        'Date: Fri, 27 Nov 2026 08:05:00 +0000\r\n'
        'Message-ID: <dsn-1@mx.customer.test>\r\n'
        'Auto-Submitted: auto-replied\r\n'
        'MIME-Version: 1.0\r\n'
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        '--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n'
        '--B\r\nContent-Type: message/delivery-status\r\n\r\n'
        'Reporting-MTA: dns; mx.customer.test\r\n\r\n'
        f'Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\n'
        f'Status: {"4.4.1" if delayed else "5.1.1"}\r\n'
        f'Diagnostic-Code: smtp; {"451 4.4.1 try again later" if delayed else refused}\r\n'
        '--B\r\nContent-Type: text/rfc822-headers\r\n\r\n'
        f'From: {SUPPORT}\r\nTo: {recipient}\r\nSubject: Re: [#1] Printer on fire\r\n'
        f'Message-ID: {original_message_id}\r\n'
        '--B--\r\n'
    ).encode()


def test_auto_reply_and_out_of_office_are_stored_but_flagged(support):
    # Given a solved ticket answered by an agent
    from inboxdesk.dal import tickets
    from inboxdesk.logic import tickets as ticket_rules

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id, '<reply-ooo@inboxdesk.test>')
    ticket_rules.update_ticket(ticket.id, {'status': 'solved'}, expected_version=tickets.get_ticket(ticket.id).version)
    # When an out-of-office answer and an RFC 3834 auto-reply arrive for the reply
    deliver(
        make_mail(
            subject='Out of Office: Re: [#1] Printer on fire',
            body='I am out of the office until Monday.',
            in_reply_to=f'<{reply.rfc_id}>',
            headers={'Auto-Submitted': 'auto-replied', 'X-Autoreply': 'yes'},
        )
    )
    deliver(
        make_mail(
            subject='Automatic reply', in_reply_to=f'<{reply.rfc_id}>', headers={'Auto-Submitted': 'auto-replied'}
        )
    )
    # Then both are on the ticket, flagged automatic, and the ticket stays solved
    messages = tickets.list_messages(ticket.id)
    assert len(messages) == 4
    assert all(m.flags.automatic for m in messages[2:])
    assert messages[2].flags.out_of_office
    assert tickets.get_ticket(ticket.id).status == 'solved'


def test_mail_from_our_own_address_or_with_our_loop_header_is_dropped(support, outcomes):
    # Given mail from our own inbound address, and mail carrying our loop header
    own = make_mail(sender=f'Support <{SUPPORT}>')
    looped = make_mail(headers={r.LOOP_HEADER: 'ticket-1'})
    # When both arrive
    keys = [deliver(own), deliver(looped)]
    # Then no ticket exists, the raw mail is still in S3, and both outcomes are logged
    assert all_tickets() == []
    for key in keys:
        assert boto3.client('s3').head_object(Bucket=BUCKET, Key=key)
    assert [line['outcome'] for line in outcomes.lines] == ['loop_dropped', 'loop_dropped']


def test_routing_by_envelope_recipient_then_headers_then_default(support, outcomes):
    # Given queues Support (default) and Sales
    # When SES accepted a mail for sales@ that shows only an unknown address in To
    deliver(make_mail(to='everyone@customer.test', subject='envelope'), recipients=[SALES])
    # And a polled mail (no envelope) was delivered to a plus-tagged, upper-case Sales address
    key = store_raw(
        make_mail(
            to='x@customer.test', subject='header', headers={'Delivered-To': 'Sales+eu@InboxDesk.test'}
        ).as_bytes()
    )
    assert handle(sqs_event(notices.mailbox_job(bucket=BUCKET, key=key, mailbox_id='mbx-1'))) == {
        'batchItemFailures': []
    }
    # And a mail for no known address arrived
    deliver(make_mail(to='nobody@customer.test', subject='nowhere'), recipients=['nobody@customer.test'])
    # Then the first two are in Sales and the last in the default queue
    by_title = {t.title: t for t in all_tickets()}
    from inboxdesk.dal import queues

    sales = next(q for q in queues.list_queues() if q.name == 'Sales')
    assert by_title['envelope'].queue_id == sales.id
    assert by_title['header'].queue_id == sales.id
    assert by_title['nowhere'].queue_id == support.id
    assert [line['queue'] for line in outcomes.lines] == ['Sales', 'Sales', 'Support']


def test_attachments_and_inline_images_are_kept_in_s3(support):
    # Given a mail with a PDF attachment and an inline (cid:) image
    pdf = b'%PDF-1.4 fake pdf bytes' * 50
    png = b'\x89PNG\r\n\x1a\n' + b'\x00' * 64
    deliver(make_mail(attachments=[('report.pdf', 'application/pdf', pdf)], inline_image=png))
    # When we read the stored message
    from inboxdesk.dal import tickets

    ticket = only_ticket()
    [message] = tickets.list_messages(ticket.id)
    by_name = {a.filename: a for a in message.attachments}
    # Then both are in S3 under the ticket, byte for byte, with their metadata
    s3 = boto3.client('s3')
    assert set(by_name) == {'report.pdf', 'logo.png'}
    for attachment, data in ((by_name['report.pdf'], pdf), (by_name['logo.png'], png)):
        assert attachment.s3_key and attachment.s3_key.startswith(f'attachments/{ticket.id}/')
        assert s3.get_object(Bucket=BUCKET, Key=attachment.s3_key)['Body'].read() == data
    assert by_name['logo.png'].inline and by_name['logo.png'].content_id == 'logo@customer.test'
    assert not by_name['report.pdf'].inline and by_name['report.pdf'].size == len(pdf)


def test_virus_fail_is_spam_with_attachments_withheld(support):
    # Given a mail with an attachment that SES's virus scan failed
    deliver(
        make_mail(attachments=[('invoice.exe', 'application/octet-stream', b'MZ' * 100)]), verdicts={'virus': 'FAIL'}
    )
    # When it is ingested
    from inboxdesk.dal import tickets

    ticket = only_ticket()
    [message] = tickets.list_messages(ticket.id)
    # Then the ticket is spam and the attachment is listed but not stored
    assert ticket.status == 'spam' and ticket.verdicts.virus == 'FAIL'
    assert message.attachments_withheld and [a.s3_key for a in message.attachments] == [None]
    listed = boto3.client('s3').list_objects_v2(Bucket=BUCKET, Prefix=f'attachments/{ticket.id}/')
    assert listed.get('KeyCount', 0) == 0


def test_an_infected_reply_is_kept_on_its_ticket_without_its_attachment(support):
    # Given an open ticket answered by an agent
    from inboxdesk.dal import tickets

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id)
    # When the customer's answer carries an attachment that SES's virus scan failed
    infected = make_mail(in_reply_to=f'<{reply.rfc_id}>', attachments=[('x.exe', 'application/x-msdownload', b'MZ')])
    deliver(infected, verdicts={'virus': 'FAIL'})
    # Then the answer is on the ticket with the attachment listed but not stored, and the ticket is not binned
    last = tickets.list_messages(ticket.id)[-1]
    assert last.thread_rule == 'headers' and last.attachments_withheld
    assert [(a.filename, a.s3_key) for a in last.attachments] == [('x.exe', None)]
    assert tickets.get_ticket(ticket.id).status == 'new'


def test_large_body_lives_in_s3_and_reads_back_whole(support):
    # Given a mail whose text is far over the inline limit
    body = 'All the logs follow.\n' + ('line of log output 0123456789\n' * 2000)
    deliver(make_mail(body=body))
    # When the conversation is read
    from inboxdesk.dal import tickets

    ticket = only_ticket()
    [message] = tickets.list_messages(ticket.id)
    # Then the full text comes back, and the description is a short beginning of it
    assert message.text.strip() == body.strip()
    assert len(ticket.description) <= 1001 and ticket.description.startswith('All the logs follow.')


def test_unreadable_mail_is_still_a_ticket_with_the_raw_mail_attached(support, outcomes):
    # Given bytes that are not MIME at all (an Outlook .msg compound file)
    raw = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + b'\x00' * 512
    # When they arrive as a mail
    key = deliver(raw)
    # Then a ticket exists whose message carries the raw mail as its attachment
    from inboxdesk.dal import tickets

    ticket = only_ticket()
    [message] = tickets.list_messages(ticket.id)
    assert message.flags.unreadable and message.raw_key == key
    [original] = message.attachments
    assert (original.filename, original.content_type, original.size) == ('original.eml', 'message/rfc822', len(raw))
    assert ticket.title == '(no subject)'
    assert outcomes.lines[0]['outcome'] == 'created'
    # And the agent downloads it through the link the API hands out, from a copy kept with the ticket
    from inboxdesk.logic.attachments import download_url

    assert original.s3_key and original.s3_key.startswith(f'attachments/{ticket.id}/')
    boto3.client('s3').delete_object(Bucket=BUCKET, Key=key)  # raw mail expires (lifecycle rule on raw/)
    with urllib.request.urlopen(download_url(original.s3_key, original.filename, original.content_type)) as got:
        assert got.read() == raw


def test_s3_test_event_is_skipped(support, outcomes):
    # Given S3's test event on the queue
    body = (EVENTS / 's3_test_event.json').read_text()
    # When the function handles it
    response = handle(sqs_event(body))
    # Then nothing fails, nothing is created, and the skip is logged
    assert response == {'batchItemFailures': []}
    assert all_tickets() == []
    assert [line['outcome'] for line in outcomes.lines] == ['skipped']


def test_mixed_batch_reports_exactly_the_poison_record(support):
    # Given a batch: a good mail, a notice whose raw mail is not in S3, a record that is no notice, a good mail
    good_1 = ses_body(store_raw(make_mail(subject='one').as_bytes()))
    missing = ses_body('raw/does-not-exist')
    garbage = 'this is not json'
    good_2 = ses_body(store_raw(make_mail(subject='two').as_bytes()))
    event = sqs_event(good_1, missing, garbage, good_2)
    # When the function handles the batch
    response = handle(event)
    # Then exactly the two bad records are reported, and both good mails are tickets
    ids = [record['messageId'] for record in event['Records']]
    assert response == {'batchItemFailures': [{'itemIdentifier': ids[1]}, {'itemIdentifier': ids[2]}]}
    assert sorted(t.title for t in all_tickets()) == ['one', 'two']


def test_every_outcome_is_a_log_line_and_a_metric(support, outcomes, capsys):
    # Given a batch: a new mail, the same notice again, a loop, S3's test event, and a notice whose mail is gone
    body = ses_body(store_raw(make_mail().as_bytes()))
    loop = ses_body(store_raw(make_mail(sender=f'Support <{SUPPORT}>').as_bytes()))
    test_event = (EVENTS / 's3_test_event.json').read_text()
    gone = ses_body('raw/never-stored')
    capsys.readouterr()
    # When the function handles it
    handle(sqs_event(body, body, loop, test_event, gone))
    # Then each record has its structured line
    assert [line['outcome'] for line in outcomes.lines] == ['created', 'duplicate', 'loop_dropped', 'skipped']
    assert outcomes.messages.count('mail not ingested') == 1
    # And the metrics CloudWatch receives (embedded metric format on stdout) count every outcome
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counts = {
        metric['Name']: sum(blob[metric['Name']]) if isinstance(blob[metric['Name']], list) else blob[metric['Name']]
        for blob in emitted
        for directive in blob['_aws']['CloudWatchMetrics']
        for metric in directive['Metrics']
    }
    assert counts == {
        'InboundMailCreated': 1,
        'InboundMailDuplicate': 1,
        'InboundMailLoopDropped': 1,
        'InboundMailSkipped': 1,
        'InboundMailFailed': 1,
    }


def test_events_reach_the_bus_and_a_failing_bus_does_not_lose_the_mail(support, monkeypatch, outcomes):
    # Given a rule on the event bus that forwards Inboxdesk's events to a queue
    from inboxdesk.config import inbound_settings

    sqs = boto3.client('sqs')
    events = boto3.client('events')
    queue_url = sqs.create_queue(QueueName='inboxdesk-events-probe')['QueueUrl']
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    bus = r.LOCAL_NAMES[r.ENV_EVENT_BUS]
    events.put_rule(Name='probe', EventBusName=bus, EventPattern=json.dumps({'source': ['inboxdesk']}))
    events.put_targets(Rule='probe', EventBusName=bus, Targets=[{'Id': 'q', 'Arn': queue_arn}])
    # When a new mail and then a reply to our answer arrive
    deliver(make_mail())
    reply = agent_reply(only_ticket().id)
    deliver(make_mail(in_reply_to=f'<{reply.rfc_id}>'))
    # Then the bus saw ticket.created, message.received, message.received - with ids, without the subject
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)['Messages']
    published = [json.loads(m['Body']) for m in received]
    assert [e['detail-type'] for e in published] == ['ticket.created', 'message.received', 'message.received']
    assert all(e['detail']['ticket_id'] == only_ticket().id for e in published)
    assert 'Printer' not in json.dumps(published)
    # When the bus does not exist (a broken deploy), Then the mail is still ingested
    monkeypatch.setenv(r.ENV_EVENT_BUS, 'no-such-bus')
    inbound_settings.cache_clear()
    try:
        deliver(make_mail(subject='another'))
    finally:
        inbound_settings.cache_clear()
    assert len(all_tickets()) == 2
    assert outcomes.lines[-1]['outcome'] == 'created'
    assert 'event publish failed' in outcomes.messages


def test_a_ticket_id_in_a_message_id_alone_does_not_thread(support):
    # Given ticket #1, and a stranger who guesses its id into a Message-ID we never sent
    deliver(make_mail())
    ticket = only_ticket()
    forged = f'<{ticket.id}.01ZZZZZZZZZZZZZZZZZZZZZZZZ@inboxdesk.test>'
    # When the stranger's mail names it in In-Reply-To
    deliver(make_mail(sender='Mallory <mallory@elsewhere.test>', in_reply_to=forged))
    # Then it opens a new ticket: only a stored pointer threads by headers
    assert sorted(t.number for t in all_tickets()) == [1, 2]


def test_reply_threads_when_the_ticket_changed_after_the_pointer_was_read(support, monkeypatch):
    # Given a ticket with an agent's reply, and a lookup that returns a stale copy of the ticket
    from inboxdesk.dal import tickets
    from inboxdesk.logic import tickets as ticket_rules

    deliver(make_mail())
    ticket = only_ticket()
    reply = agent_reply(ticket.id)
    stale = tickets.get_ticket(ticket.id)
    ticket_rules.update_ticket(ticket.id, {'priority': 'high'}, expected_version=stale.version)
    real_lookup = tickets.lookup_thread

    def stale_lookup(**kwargs: Any) -> tickets.ThreadLookup:
        found = real_lookup(**kwargs)
        return tickets.ThreadLookup(found.pointers, found.numbered_ticket_id, found.duplicate_of, {ticket.id: stale})

    monkeypatch.setattr(tickets, 'lookup_thread', stale_lookup)
    # When the customer's answer arrives
    deliver(make_mail(in_reply_to=f'<{reply.rfc_id}>'))
    # Then it is appended once, and the agent's change is kept
    current = tickets.get_ticket(ticket.id)
    assert current.message_count == 3 and current.priority == 'high'


def test_a_new_ticket_skips_a_number_that_is_already_taken(support, outcomes):
    # Given ticket #n, and the number after it already taken by a ticket the counter does not know of
    # (a counter restored from a backup behind the tickets)
    from inboxdesk import ids
    from inboxdesk.dal import keys
    from inboxdesk.dal.table import TicketNumberItem

    deliver(make_mail())
    first = only_ticket()
    restored_id = ids.new_id()
    TicketNumberItem(keys.ticket_number_pk(first.number + 1), keys.SINGLE_SK, ticket_id=restored_id).save()
    # When a new customer's mail arrives
    deliver(make_mail(sender='Bob Customer <bob@customer.test>', subject='Scanner jammed'))
    # Then it is still a ticket, with the first free number after the taken one
    [second] = [t for t in all_tickets() if t.id != first.id]
    assert (second.number, second.title) == (first.number + 2, 'Scanner jammed')
    assert [line['ticket_number'] for line in outcomes.lines] == [first.number, first.number + 2]
    # And the taken number still names the ticket that had it, while the new number names the new ticket
    assert TicketNumberItem.get(keys.ticket_number_pk(first.number + 1), keys.SINGLE_SK).ticket_id == restored_id
    assert TicketNumberItem.get(keys.ticket_number_pk(second.number), keys.SINGLE_SK).ticket_id == second.id


def test_a_mail_to_thousands_of_recipients_is_still_one_message(support):
    # Given a mail with 3,000 addresses in To and Cc and a 20,000-character subject
    crowd = ', '.join(f'user{i}@crowd.test' for i in range(3000))
    mail = make_mail(to=f'{SUPPORT}, {crowd}', cc=crowd, subject='spam ' * 4000)
    # When it arrives, Then it is stored (DynamoDB's 400 KB item limit is respected)
    deliver(mail)
    from inboxdesk.dal import tickets

    ticket = only_ticket()
    [message] = tickets.list_messages(ticket.id)
    assert len(message.to) == 100 and len(ticket.participants) == 50 and len(ticket.title) == 200


def _emitted_counts(out: str) -> dict[str, float]:
    """Metric name -> total, from the embedded-metric-format lines the handler printed."""
    counts: dict[str, float] = {}
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob['_aws']['CloudWatchMetrics']:
            for metric in directive['Metrics']:
                value = blob[metric['Name']]
                counts[metric['Name']] = counts.get(metric['Name'], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return counts


@pytest.fixture
def fresh_deployment(aws):
    """No queue at all, and no queue this process remembers from an earlier test (the routing cache)."""
    from inboxdesk.dal import queues

    queues.clear_routing_cache()
    assert queues.list_queues() == []


def test_first_mail_on_a_fresh_deployment_creates_the_default_queue(fresh_deployment, outcomes, capsys):
    # Given a deployed stack without any queue
    from inboxdesk.dal import queues

    capsys.readouterr()
    # When the first mail arrives, for a plus-tagged creation address
    deliver(make_mail(to='Help+web@InboxDesk.test', subject='first'), recipients=['Help+web@InboxDesk.test'])
    # Then it is a ticket in a new default queue `Support` owning the address the mail came to
    [queue] = queues.list_queues()
    assert (queue.name, queue.is_default, queue.inbound_addresses) == ('Support', True, ('help@inboxdesk.test',))
    assert queue.colour.startswith('#') and len(queue.colour) == 7
    assert only_ticket().queue_id == queue.id
    assert queues.get_default_queue() == queue
    assert outcomes.lines[-1]['queue'] == 'Support'
    assert 'default queue created' in outcomes.messages
    # And the creation was counted once
    assert _emitted_counts(capsys.readouterr().out).get('DefaultQueueCreated') == 1
    # When a second mail comes to another address of ours
    deliver(make_mail(to='billing@inboxdesk.test', subject='second'), recipients=['billing@inboxdesk.test'])
    # Then it joins the same default queue, and no queue is created
    assert queues.list_queues() == [queue]
    assert {t.queue_id for t in all_tickets()} == {queue.id}
    assert 'DefaultQueueCreated' not in _emitted_counts(capsys.readouterr().out)
    assert outcomes.messages.count('default queue created') == 1


def test_two_concurrent_first_mails_make_one_default_queue(fresh_deployment, outcomes, monkeypatch):
    # Given a fresh deployment, and two first mails whose invocations both find no default queue before
    # either writes one (each waits for the other right after its check)
    from inboxdesk.dal import queues

    both_checked = threading.Barrier(2, timeout=20)
    real_get_default = queues.get_default_queue

    def checked_together() -> Any:
        found = real_get_default()
        both_checked.wait()
        return found

    monkeypatch.setattr(queues, 'get_default_queue', checked_together)
    keys = [
        store_raw(make_mail(to=to, subject=to).as_bytes()) for to in ('support@inboxdesk.test', 'help@inboxdesk.test')
    ]
    responses: list[dict[str, Any]] = []

    def invoke(key: str, to: str) -> None:
        responses.append(handle(sqs_event(ses_body(key, [to]))))

    # When both are handled at the same time
    workers = [
        threading.Thread(target=invoke, args=(key, to))
        for key, to in zip(keys, ('support@inboxdesk.test', 'help@inboxdesk.test'), strict=True)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    monkeypatch.setattr(queues, 'get_default_queue', real_get_default)
    # Then both are tickets in the one default queue, created once, owning the winner's address only
    assert responses == [{'batchItemFailures': []}] * 2
    [queue] = queues.list_queues()
    assert queue.is_default and queues.get_default_queue() == queue
    assert len(queue.inbound_addresses) == 1
    assert queues.find_queue_by_address(queue.inbound_addresses[0]) == queue
    assert {t.queue_id for t in all_tickets()} == {queue.id} and len(all_tickets()) == 2
    assert outcomes.messages.count('default queue created') == 1
