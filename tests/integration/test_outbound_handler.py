"""The reply sender through the real handlers on the embedded AWS: a customer's mail becomes a ticket, an agent
answers over the API, the outbound function sends the reply (moto SES, or aiosmtpd for an smtp channel)."""

from __future__ import annotations

import json
import os
import urllib.request
from email import message_from_bytes, policy
from email.utils import parseaddr
from typing import Any

import boto3
import pytest

from inboxdesk import resources
from inboxdesk.config import clear_settings
from inboxdesk.dal import tickets as ticket_store
from inboxdesk.logic import tickets as ticket_logic
from tests.integration.smtp_servers import PASSWORD, USER, Certificates, make_certificates, smtp_server
from tests.integration.test_inbound_handler import SUPPORT, all_tickets, handle, make_mail, ses_body, store_raw
from tests.integration.test_inbound_handler import sqs_event as inbound_event
from tests.support.api import ADMIN, AGENT, call
from tests.support.sqs import context, sqs_event


@pytest.fixture(scope='module')
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp('outbound-certs'))


@pytest.fixture
def ticket(aws, moto_endpoint) -> dict[str, Any]:
    """A customer's mail, ingested into the Support queue (which replies through SES: no channel)."""
    boto3.client('sesv2').create_email_identity(EmailIdentity='inboxdesk.test')
    status, _, queue = call('POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': [SUPPORT]})
    assert status == 201, queue
    assert handle(inbound_event(ses_body(store_raw(make_mail().as_bytes())))) == {'batchItemFailures': []}
    [found] = all_tickets()
    return {'id': found.id, 'number': found.number, 'queue_id': queue['id'], 'moto': moto_endpoint}


def reply(ticket: dict[str, Any], **body: Any) -> dict[str, str]:
    """An agent's reply over the API; returns its job as it sits on the outbound queue."""
    status, _, answer = call(
        'POST', f'/tickets/{ticket["id"]}/replies', claims=AGENT, body={'text': 'We are on it.', **body}
    )
    assert status == 202, answer
    received = boto3.client('sqs').receive_message(
        QueueUrl=os.environ[resources.ENV_OUTBOUND_QUEUE_URL], MaxNumberOfMessages=10
    )
    jobs = [json.loads(m['Body']) for m in received.get('Messages', [])]
    return next(j for j in jobs if j['message_id'] == answer['id'])


def send(job: dict[str, str], *, receive_count: int = 1) -> dict[str, Any]:
    from outbound.handler import lambda_handler

    return lambda_handler(
        sqs_event(job, queue='inboxdesk-outbound-local', receive_count=receive_count), context('inboxdesk-outbound')
    )


def send_failing(job: dict[str, str], *, receive_count: int = 1) -> None:
    """A batch whose only record fails: Powertools raises (Lambda then returns the whole batch to SQS)."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        send(job, receive_count=receive_count)


def ses_outbox(moto: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f'{moto}/moto-api/data.json') as answer:
        data = json.load(answer)
    return (
        [m for region in data['ses']['RawMessage'].values() for m in region]
        if isinstance(data['ses']['RawMessage'], dict)
        else data['ses']['RawMessage']
    )


def status_of(job: dict[str, str]) -> tuple[str | None, str | None]:
    message = ticket_store.get_message(job['ticket_id'], job['message_id'])
    return message.delivery_status, message.delivery_reason


def test_a_reply_through_ses_reaches_the_customer_and_their_answer_to_ses_id_threads(ticket):
    job = reply(ticket)
    # When the outbound function sends the job
    assert send(job) == {'batchItemFailures': []}
    # Then SES sent one mail to the customer, from the queue, with the signed Reply-To and the threading headers
    [sent] = ses_outbox(ticket['moto'])
    mail = message_from_bytes(
        sent['raw_data'].encode() if isinstance(sent['raw_data'], str) else sent['raw_data'], policy=policy.default
    )
    assert {parseaddr(d)[1] for d in sent['destinations']} == {'alice@customer.test'}
    assert str(mail['From']) == f'Support <{SUPPORT}>'
    assert str(mail['To']) == 'Alice Customer <alice@customer.test>'
    reply_to = str(mail['Reply-To'])
    assert reply_to.startswith('support+') and reply_to.endswith('@inboxdesk.test')
    assert str(mail['Subject']) == f'Re: Printer on fire [#{ticket["number"]}]'
    customer_message = ticket_store.list_messages(ticket['id'])[0]
    assert str(mail['In-Reply-To']) == f'<{customer_message.rfc_id}>'
    assert f'<{customer_message.rfc_id}>' in str(mail['References']) and '<ref-' in str(mail['References'])
    text = mail.get_body(('plain',)).get_content()
    assert 'We are on it.' in text and 'the printer on floor 2 is on fire' in text and '[ref:' in text
    # And the message shows sent, with SES's id recorded
    assert status_of(job)[0] == 'sent'
    ses_id = next(i for i in ticket_store.get_message(job['ticket_id'], job['message_id']).provider_message_ids)
    assert ses_id.endswith('@eu-west-1.amazonses.com')
    # When the customer answers naming only SES's Message-ID, Then the answer threads into the same ticket
    answer = make_mail(subject='Re: something else entirely', in_reply_to=f'<{ses_id}>')
    raw = answer.as_bytes(policy=policy.SMTP.clone(max_line_length=200))  # moto's ids are long: keep them unfolded
    assert handle(inbound_event(ses_body(store_raw(raw)))) == {'batchItemFailures': []}
    assert [t.id for t in all_tickets()] == [ticket['id']]


def test_a_job_delivered_twice_sends_once(ticket):
    job = reply(ticket)
    send(job)
    assert send(job) == {'batchItemFailures': []}
    assert len(ses_outbox(ticket['moto'])) == 1


def test_a_crash_between_acceptance_and_record_never_sends_a_second_copy(ticket):
    from datetime import UTC, datetime

    from inboxdesk.dal import sending
    from inboxdesk.integrations.ses import SesTransport

    job = reply(ticket)
    # Given an attempt that claimed the reply, handed it to SES, and died before recording the answer
    message = ticket_store.get_message(job['ticket_id'], job['message_id'])
    from datetime import timedelta

    assert (
        sending.claim(
            message, attempt_id='dead', now=datetime.now(UTC) - timedelta(hours=1), lease=timedelta(seconds=1)
        ).state
        == 'claimed'
    )
    sending.hand_over(message, 'dead')
    SesTransport(os.environ[resources.ENV_SES_CONFIGURATION_SET], 'eu-west-1').send(
        b'From: support@inboxdesk.test\r\nTo: alice@customer.test\r\nSubject: x\r\n\r\nx\r\n',
        sender=SUPPORT,
        recipients=['alice@customer.test'],
    )
    # When SQS delivers the job again
    assert send(job, receive_count=2) == {'batchItemFailures': []}
    # Then nothing more was sent, and the agent sees that the outcome is unknown
    assert len(ses_outbox(ticket['moto'])) == 1
    status, reason = status_of(job)
    assert status == 'failed' and reason.startswith('unknown outcome')


def test_nobody_left_after_the_filter_is_suppressed(ticket):
    from inboxdesk.dal import suppressions

    job = reply(ticket)
    # Given the customer's address bounced permanently after the reply was queued
    suppressions.mark_undeliverable('alice@customer.test', reason='bounce')
    # When the job runs, Then nothing is sent and the message says why
    assert send(job) == {'batchItemFailures': []}
    assert ses_outbox(ticket['moto']) == []
    status, reason = status_of(job)
    assert status == 'suppressed' and 'alice@customer.test' in reason and 'undeliverable' in reason


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test's environment is read afresh, and no allow-list outlives the test that set it."""
    yield
    clear_settings()


def _smtp_queue(ticket: dict[str, Any], port: int, monkeypatch, certificates, password: str = PASSWORD) -> None:
    """Moves the ticket to a queue that replies through an smtp channel (the dev catcher's allow-list)."""
    monkeypatch.setenv(resources.ENV_SMTP_HOST_ALLOW_LIST, 'localhost')
    monkeypatch.setenv('SSL_CERT_FILE', str(certificates.ca_file))
    clear_settings()  # the sender reads its allow-list once per container
    status, _, channel = call(
        'POST',
        '/channels',
        claims=ADMIN,
        body={
            'kind': 'smtp',
            'from_address': 'help@customer-own.test',
            'display_name': 'Acme Help',
            'smtp': {'host': 'localhost', 'port': port, 'tls_mode': 'starttls', 'username': USER, 'password': password},
        },
    )
    assert status == 201, channel
    status, _, queue = call(
        'POST',
        '/queues',
        claims=ADMIN,
        body={'name': 'Help', 'inbound_addresses': ['help@inboxdesk.test'], 'reply_via': channel['id']},
    )
    assert status == 201, queue
    version = ticket_store.get_ticket(ticket['id']).version
    ticket_logic.update_ticket(ticket['id'], {'queue_id': queue['id']}, version)


def test_a_ticket_that_moved_queues_replies_through_its_current_queues_smtp_channel(ticket, monkeypatch, certificates):
    with smtp_server(certificates, 'starttls') as server:
        _smtp_queue(ticket, server.port, monkeypatch, certificates)
        job = reply(ticket)
        assert send(job) == {'batchItemFailures': []}
    # Then the mail went through the customer's own server, from the channel's address, and not through SES
    [received] = server.recorder.received
    assert received.mail_from == 'help@customer-own.test' and received.rcpt_tos == ('alice@customer.test',)
    mail = message_from_bytes(received.content, policy=policy.default)
    assert str(mail['From']) == 'Acme Help <help@customer-own.test>'
    assert str(mail['Reply-To']).startswith('help+')
    assert ses_outbox(ticket['moto']) == []
    assert status_of(job)[0] == 'sent'


def test_a_wrong_password_fails_with_the_reason(ticket, monkeypatch, certificates):
    with smtp_server(certificates, 'starttls') as server:
        _smtp_queue(ticket, server.port, monkeypatch, certificates, password='wrong')
        job = reply(ticket)
        assert send(job) == {'batchItemFailures': []}  # permanent: no retry
    status, reason = status_of(job)
    assert status == 'failed' and 'user name or password' in reason
    assert server.recorder.received == []


def test_a_421_then_success_delivers_once(ticket, monkeypatch, certificates):
    with smtp_server(certificates, 'starttls', answers=('421 4.3.2 Service not available, try again later',)) as server:
        _smtp_queue(ticket, server.port, monkeypatch, certificates)
        job = reply(ticket)
        # When the first try meets a 421, Then the record fails for SQS to retry, and the message is queued again
        send_failing(job)
        status, reason = status_of(job)
        assert status == 'queued' and '421' in reason
        # When SQS delivers it again, Then it is delivered, once
        assert send(job, receive_count=2) == {'batchItemFailures': []}
    assert len(server.recorder.received) == 1
    assert status_of(job) == ('sent', None)


def test_transient_failures_until_the_last_try_end_failed_with_the_last_reason(
    ticket, monkeypatch, certificates, capsys
):
    busy = '421 4.3.2 Service not available, try again later'
    with smtp_server(certificates, 'starttls', answers=(busy,) * 5) as server:
        _smtp_queue(ticket, server.port, monkeypatch, certificates)
        job = reply(ticket)
        for receive in range(1, 5):
            send_failing(job, receive_count=receive)
            assert status_of(job)[0] == 'queued'
        # When the last receive fails too
        send_failing(job, receive_count=5)
    # Then the message shows failed with the last reason, the job goes on to the DLQ, and the failure is counted
    status, reason = status_of(job)
    assert status == 'failed' and 'gave up after 5 tries' in reason and '421' in reason
    assert server.recorder.received == []
    assert 'ReplySendFailed' in capsys.readouterr().out


def test_an_uploaded_attachment_travels_with_the_reply(ticket):
    from tests.integration.test_api_attachments import _upload

    # Given an agent's reply with a PDF uploaded to S3
    pdf = b'%PDF-1.4\n' + bytes(range(256)) * 200
    upload = _upload('report.pdf', 'application/pdf', pdf)
    job = reply(ticket, attachment_ids=[upload['id']])
    # When it is sent, Then the customer's copy carries the file, byte for byte
    assert send(job) == {'batchItemFailures': []}
    [sent] = ses_outbox(ticket['moto'])
    mail = message_from_bytes(sent['raw_data'].encode(), policy=policy.default)
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == 'report.pdf' and attachment.get_content() == pdf
