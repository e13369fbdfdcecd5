"""The way back, through the real inbound and outbound functions on the embedded AWS: answers thread by the
signed reply token whatever headers the client kept, forged tokens are ignored, our own mail coming back is
dropped, and new tickets are acknowledged (automatic mail, once, within the limits) through the reply sender."""

from __future__ import annotations

import json
import logging
import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest

from inboxdesk import resources
from inboxdesk.dal import tickets as ticket_store
from tests.integration.test_inbound_handler import SUPPORT, all_tickets, handle, make_mail, ses_body, store_raw
from tests.integration.test_inbound_handler import sqs_event as inbound_event
from tests.integration.test_outbound_handler import reply, send, ses_outbox, ticket
from tests.support.api import ADMIN, call

__all__ = ['ticket']  # the fixture, shared with the sender's tests

BOB = 'Bob Stranger <bob@elsewhere.test>'


def arrive(mail: EmailMessage, recipients: tuple[str, ...] = (SUPPORT,)) -> None:
    """Store the mail as SES would and hand its notice to the inbound function."""
    raw = mail.as_bytes(policy=policy.SMTP.clone(max_line_length=200))  # long ids stay on one line
    assert handle(inbound_event(ses_body(store_raw(raw), recipients))) == {'batchItemFailures': []}


def sent_mail(moto: str, index: int = -1) -> EmailMessage:
    raw = ses_outbox(moto)[index]['raw_data']
    return message_from_bytes(raw.encode() if isinstance(raw, str) else raw, policy=policy.default)  # type: ignore[return-value]


def answered(ticket: dict[str, Any]) -> EmailMessage:
    """An agent's reply, sent through SES: the mail the customer received."""
    assert send(reply(ticket)) == {'batchItemFailures': []}
    return sent_mail(ticket['moto'])


def token_of(mail: EmailMessage) -> str:
    local = str(mail['Reply-To']).rpartition('@')[0]
    return local.rpartition('+')[2]


def last_message(ticket_id: str) -> Any:
    return ticket_store.list_messages(ticket_id)[-1]


@pytest.fixture
def rejected() -> Any:
    """The inbound function's `reply token rejected` lines."""
    from inboxdesk.observability import logger

    lines: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == 'reply token rejected':
                lines.append(record)

    handler = Collect()
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)  # type: ignore[attr-defined]


# --- threading by reply token ---------------------------------------------------------------------


def test_an_answer_without_any_threading_header_sent_to_the_plus_address_joins_its_ticket(ticket):
    # Given the customer received an agent's reply (which carries only our loop header, no automatic ones)
    mail = answered(ticket)
    assert mail[resources.LOOP_HEADER] and mail['Auto-Submitted'] is None and mail['Precedence'] is None
    # When they answer to its Reply-To with a client that keeps no header and a new subject
    plus_address = str(mail['Reply-To'])
    arrive(make_mail(subject='another thing', to=plus_address, body='It works now.'), recipients=(plus_address,))
    # Then the answer is on the same ticket, threaded by the reply token
    assert [t.id for t in all_tickets()] == [ticket['id']]
    assert last_message(ticket['id']).thread_rule == 'reply-token'
    assert last_message(ticket['id']).text.startswith('It works now.')


def test_a_token_kept_only_in_references_threads(ticket):
    # Given a reply the customer received; When their client keeps only our token's reference id in References
    mail = answered(ticket)
    reference = next(r for r in str(mail['References']).split() if r.startswith('<ref-'))
    arrive(make_mail(subject='hm', references=[reference]))
    # Then it joins the ticket
    assert [t.id for t in all_tickets()] == [ticket['id']]
    assert last_message(ticket['id']).thread_rule == 'reply-token'


def test_a_quoted_token_threads_from_the_customer_but_not_from_a_stranger(ticket):
    # Given the reference line at the foot of the reply's text
    mail = answered(ticket)
    line = f'[ref:{token_of(mail)}]'
    assert line in mail.get_body(('plain',)).get_content()  # type: ignore[union-attr]
    # When the customer quotes it writing to the plain address without headers, Then it joins the ticket
    arrive(make_mail(subject='thanks', body=f'Thanks!\n\n> We are on it.\n> {line}'))
    assert [t.id for t in all_tickets()] == [ticket['id']]
    assert last_message(ticket['id']).thread_rule == 'reply-token'
    # When someone who takes no part in the ticket quotes the same line, Then it is a new ticket of their own
    arrive(make_mail(subject='fwd', sender=BOB, body=f'Look what I got:\n> {line}'))
    assert len(all_tickets()) == 2
    [theirs] = [t for t in all_tickets() if t.id != ticket['id']]
    assert theirs.customer.email == 'bob@elsewhere.test'


def test_a_forged_token_is_ignored_logged_and_makes_a_new_ticket(ticket, rejected):
    # Given a token with the real ticket's id and a made-up MAC
    mail = answered(ticket)
    real = token_of(mail)
    forged = real[:26] + ('a' if real[26] != 'a' else 'b') + real[27:]
    forged_address = f'support+{forged}@inboxdesk.test'
    # When a mail arrives for the forged plus address, naming nothing else
    arrive(make_mail(subject='let me in', sender=BOB, to=forged_address), recipients=(forged_address,))
    # Then it is a new ticket, and the rejection is logged with where the token was
    assert len(all_tickets()) == 2
    assert [r.__dict__.get('place') for r in rejected] == ['address']
    assert ticket_store.list_messages(ticket['id'])[-1].direction == 'outbound'


# --- loops -------------------------------------------------------------------------------------------


def test_our_own_reply_forwarded_back_to_us_is_not_ingested(ticket):
    # Given the reply as SES sent it (SES gave it its own Message-ID, which the sender recorded)
    mail = answered(ticket)
    job_message = last_message(ticket['id'])
    ses_id = job_message.provider_message_ids[0]
    before = len(ticket_store.list_messages(ticket['id']))
    # When a forwarding rule sends that very mail back to the support address, without our loop header
    del mail[resources.LOOP_HEADER]
    del mail['Message-ID']
    mail['Message-ID'] = f'<{ses_id}>'
    del mail['To']
    mail['To'] = SUPPORT
    arrive(mail)
    # Then nothing is added: no message, no ticket
    assert len(ticket_store.list_messages(ticket['id'])) == before
    assert len(all_tickets()) == 1


def test_the_same_customer_mail_sent_to_two_queues_is_kept_by_both(aws):
    # Given two queues; When one customer mail goes to both of their addresses (same Message-ID)
    for name, address in (('Support', SUPPORT), ('Sales', 'sales@inboxdesk.test')):
        assert call('POST', '/queues', claims=ADMIN, body={'name': name, 'inbound_addresses': [address]})[0] == 201
    mail = make_mail(to=f'{SUPPORT}, sales@inboxdesk.test', message_id='<same@customer.test>')
    arrive(mail, recipients=(SUPPORT,))
    arrive(mail, recipients=('sales@inboxdesk.test',))
    # Then each queue has its ticket: a Message-ID we stored but did not send is no loop
    assert len(all_tickets()) == 2


# --- acknowledgements ----------------------------------------------------------------------------------


@pytest.fixture
def acknowledging(aws, moto_endpoint) -> dict[str, Any]:
    """The Support queue with auto-acknowledge on and its own template."""
    boto3.client('sesv2').create_email_identity(EmailIdentity='inboxdesk.test')
    template = 'Dear {customer_name}, we got "{title}" as #{ticket_number}. {unknown} {ticket_number.__class__}'
    status, _, queue = call(
        'POST',
        '/queues',
        claims=ADMIN,
        body={
            'name': 'Support',
            'inbound_addresses': [SUPPORT],
            'auto_acknowledge': {'enabled': True, 'template': template},
        },
    )
    assert status == 201, queue
    return {'queue': queue, 'moto': moto_endpoint}


def outbound_jobs() -> list[dict[str, str]]:
    sqs = boto3.client('sqs')
    url = os.environ[resources.ENV_OUTBOUND_QUEUE_URL]
    jobs: list[dict[str, str]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get('Messages', []):
        jobs += [json.loads(m['Body']) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{'Id': str(i), 'ReceiptHandle': m['ReceiptHandle']} for i, m in enumerate(messages)]
        )
    return jobs


def test_a_new_ticket_is_acknowledged_through_the_reply_sender_as_automatic_mail(acknowledging):
    # When a customer writes for the first time
    arrive(make_mail(subject='Printer \t on fire', sender='"Alice   Customer" <alice@customer.test>'))
    # Then an acknowledgement is queued for the reply sender, stored on the ticket as automatic outbound mail
    [ticket] = all_tickets()
    [job] = outbound_jobs()
    ack = ticket_store.get_message(job['ticket_id'], job['message_id'])
    assert (ack.direction, ack.delivery_status, ack.flags.automatic) == ('outbound', 'queued', True)
    # When the sender sends it
    assert send(job) == {'batchItemFailures': []}
    # Then the customer gets it from the queue, marked as automatic so responders stay quiet, with the template filled
    mail = sent_mail(acknowledging['moto'])
    assert str(mail['To']) == 'Alice Customer <alice@customer.test>'
    assert str(mail['Subject']) == f'Re: Printer on fire [#{ticket.number}]'
    assert str(mail['Auto-Submitted']) == 'auto-replied'
    assert str(mail['X-Auto-Response-Suppress']) == 'All'
    assert str(mail['Precedence']) == 'bulk'
    assert mail[resources.LOOP_HEADER]
    text = mail.get_body(('plain',)).get_content()  # type: ignore[union-attr]
    assert text.startswith(
        f'Dear Alice Customer, we got "Printer on fire" as #{ticket.number}. {{unknown}} {{ticket_number.__class__}}'
    )
    assert 'the printer on floor 2 is on fire' not in text  # the customer's mail is not sent back
    assert ticket_store.get_message(job['ticket_id'], job['message_id']).delivery_status == 'sent'


def test_the_default_text_when_the_queue_has_no_template(aws):
    # Given a queue acknowledging without a template of its own
    body = {'name': 'Support', 'inbound_addresses': [SUPPORT], 'auto_acknowledge': {'enabled': True}}
    assert call('POST', '/queues', claims=ADMIN, body=body)[0] == 201
    # When a customer writes
    arrive(make_mail(subject='Invoice missing'))
    # Then the acknowledgement names the ticket's number and title, and greets the customer
    [job] = outbound_jobs()
    ack = ticket_store.get_message(job['ticket_id'], job['message_id'])
    number = all_tickets()[0].number
    assert 'Hello Alice Customer,' in ack.text and f'#{number}' in ack.text and '"Invoice missing"' in ack.text


@pytest.mark.parametrize(
    ('headers', 'sender'),
    [
        ({'Auto-Submitted': 'auto-replied'}, 'Alice Customer <alice@customer.test>'),
        ({'Precedence': 'bulk'}, 'Alice Customer <alice@customer.test>'),
        ({'Precedence': 'junk'}, 'Alice Customer <alice@customer.test>'),
        ({'Precedence': 'list'}, 'Alice Customer <alice@customer.test>'),
        ({'List-Id': '<news.customer.test>'}, 'News <news@customer.test>'),
        ({'X-Autoreply': 'yes'}, 'Alice Customer <alice@customer.test>'),
        ({}, 'Mail Delivery System <mailer-daemon@customer.test>'),
        ({}, 'No Reply <no-reply@customer.test>'),
    ],
)
def test_automatic_mail_and_machine_senders_get_no_acknowledgement(acknowledging, headers, sender):
    # When such a mail opens a ticket
    arrive(make_mail(subject='Out of office', sender=sender, headers=headers))
    # Then the ticket exists, and nothing is queued or stored to go out
    [ticket] = all_tickets()
    assert outbound_jobs() == []
    assert [m.direction for m in ticket_store.list_messages(ticket.id)] == ['inbound']


def test_an_address_in_the_outgoing_filter_gets_no_acknowledgement(acknowledging):
    # Given the customer's domain is in the outgoing email filter
    status, headers, _ = call('GET', '/settings/outgoing-filter', claims=ADMIN)
    assert status == 200
    put = call(
        'PUT',
        '/settings/outgoing-filter',
        claims=ADMIN,
        headers={'If-Match': headers.get('ETag', headers.get('etag', ''))},
        body={'addresses': ['@customer.test', SUPPORT]},
    )
    assert put[0] == 200, put
    # When the customer writes, Then no acknowledgement
    arrive(make_mail())
    assert outbound_jobs() == []


def test_an_answer_to_an_existing_ticket_gets_no_acknowledgement(acknowledging):
    # Given a ticket (acknowledged once)
    arrive(make_mail(message_id='<first@customer.test>'))
    assert len(outbound_jobs()) == 1
    # When the customer writes again on it
    arrive(make_mail(subject='Re: Printer on fire', in_reply_to='<first@customer.test>'))
    # Then nothing more is acknowledged
    assert len(all_tickets()) == 1
    assert outbound_jobs() == []


def test_a_fourth_acknowledgement_within_ten_minutes_is_suppressed_with_the_reason(acknowledging):
    # When one customer opens four tickets in a row
    for n in range(4):
        arrive(make_mail(subject=f'Problem {n}'))
    # Then three acknowledgements are queued, and the fourth is stored as suppressed with the limit that held it
    assert len(outbound_jobs()) == 3
    acks = [m for t in all_tickets() for m in ticket_store.list_messages(t.id) if m.direction == 'outbound']
    assert sorted(m.delivery_status or '' for m in acks) == ['queued', 'queued', 'queued', 'suppressed']
    [held] = [m for m in acks if m.delivery_status == 'suppressed']
    assert held.delivery_reason == 'rate limit: 3 automatic mails acknowledgements in 10 minutes'
