"""The dev runtime (`inboxdesk dev`): its parts against moto server, then the whole command end to end."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import boto3
import pytest

from inboxdesk import resources as r
from tests.conftest import REPO, free_port
from tests.support.cli import INBOXDESK, cli_env


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy; the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


# --- the embedded AWS ------------------------------------------------------------------------------------


def test_the_embedded_aws_keeps_every_acknowledged_write_under_concurrent_transactions(aws):
    # Given a table with one guard item, and a client per thread (as concurrent Lambdas have)
    from botocore.exceptions import ClientError

    table = os.environ[r.ENV_TABLE]
    boto3.client('dynamodb').put_item(TableName=table, Item={'pk': {'S': 'guard'}, 'sk': {'S': 'guard'}})
    acknowledged: list[str] = []

    def write(worker: int) -> None:
        client = boto3.client('dynamodb')
        for i in range(25):
            client.put_item(TableName=table, Item={'pk': {'S': f'w{worker}-{i}'}, 'sk': {'S': 'x'}})
            acknowledged.append(f'w{worker}-{i}')

    def cancel(worker: int) -> None:
        client = boto3.client('dynamodb')
        guard = {'pk': {'S': 'guard'}, 'sk': {'S': 'guard'}}
        for i in range(25):
            with pytest.raises(ClientError, match='TransactionCanceled'):
                client.transact_write_items(
                    TransactItems=[
                        {'Put': {'TableName': table, 'Item': {'pk': {'S': f't{worker}-{i}'}, 'sk': {'S': 'x'}}}},
                        {'Put': {'TableName': table, 'Item': guard, 'ConditionExpression': 'attribute_not_exists(pk)'}},
                    ]
                )

    # When writers put items while other threads run transactions that DynamoDB cancels
    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=cancel, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every write that was acknowledged is in the table, and nothing of the cancelled transactions
    paginator = boto3.client('dynamodb').get_paginator('scan')
    stored = {item['pk']['S'] for page in paginator.paginate(TableName=table) for item in page['Items']}
    assert len(acknowledged) == 150
    assert sorted(set(acknowledged) - stored) == []
    assert not [key for key in stored if key.startswith('t')]


# --- the worker: Lambda's SQS event source mapping ---------------------------------------------------


@pytest.fixture
def short_queue(aws):
    """A queue whose failed messages come back at once and reach its DLQ on the second receive."""
    sqs = boto3.client('sqs')
    dlq_url = sqs.create_queue(QueueName='inboxdesk-test-dlq')['QueueUrl']
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    url = sqs.create_queue(
        QueueName='inboxdesk-test',
        Attributes={
            'VisibilityTimeout': '0',
            'RedrivePolicy': json.dumps({'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': '2'}),
        },
    )['QueueUrl']
    return sqs, url, dlq_url


def queue_depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']
    )['Attributes']
    return int(attributes['ApproximateNumberOfMessages']) + int(attributes['ApproximateNumberOfMessagesNotVisible'])


def test_worker_passes_lambda_sqs_events_and_deletes_only_what_succeeded(short_queue):
    from inboxdesk_cli.local.worker import QueueWorker

    # Given a good and a poison message on a queue, and a handler that reports the poison one as failed
    sqs, url, dlq_url = short_queue
    sqs.send_message(QueueUrl=url, MessageBody='good')
    sqs.send_message(QueueUrl=url, MessageBody='poison')
    seen: list[dict[str, Any]] = []

    def handler(event, context):
        seen.extend(event['Records'])
        assert context.get_remaining_time_in_millis() > 0
        return {
            'batchItemFailures': [
                {'itemIdentifier': rec['messageId']} for rec in event['Records'] if rec['body'] == 'poison'
            ]
        }

    worker = QueueWorker(sqs=sqs, queue_url=url, handler=handler, function_name='test-fn', wait_seconds=1)
    worker.start()
    try:
        # When the worker has polled until the poison message was tried twice (maxReceiveCount)
        assert wait_for(lambda: sum(rec['body'] == 'poison' for rec in seen) >= 2)
    finally:
        worker.stop()

    # Then the records had Lambda's shape, the good one ran once and is gone, the poison one is in the DLQ
    record = seen[0]
    assert record['eventSource'] == 'aws:sqs'
    assert record['eventSourceARN'].endswith(':inboxdesk-test')
    assert record['attributes']['ApproximateReceiveCount'] in {'1', '2'}
    assert record['receiptHandle']
    assert sum(rec['body'] == 'good' for rec in seen) == 1
    assert queue_depth(sqs, url) == 0
    assert wait_for(lambda: queue_depth(sqs, dlq_url) == 1)
    moved = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)['Messages']
    assert [m['Body'] for m in moved] == ['poison']


def test_worker_retries_the_whole_batch_when_the_handler_raises(short_queue):
    from inboxdesk_cli.local.worker import QueueWorker

    # Given a handler that raises on its first call (as Powertools does when every record fails)
    sqs, url, _ = short_queue
    sqs.send_message(QueueUrl=url, MessageBody='once')
    calls: list[str] = []

    def handler(event, context):
        calls.extend(rec['body'] for rec in event['Records'])
        if len(calls) == 1:
            raise RuntimeError('boom')
        return {'batchItemFailures': []}

    worker = QueueWorker(sqs=sqs, queue_url=url, handler=handler, function_name='test-fn')
    worker.start()
    try:
        # When the worker polls on
        assert wait_for(lambda: len(calls) >= 2)
    finally:
        worker.stop()

    # Then the message was delivered again and deleted after the successful run
    assert calls[:2] == ['once', 'once']
    assert wait_for(lambda: queue_depth(sqs, url) == 0)


# --- SMTP as SES inbound -------------------------------------------------------------------------------


@pytest.fixture
def smtp_gateway(aws):
    from inboxdesk_cli.local.ses_inbound import SesInbound, SmtpGateway

    handler = SesInbound(
        s3=boto3.client('s3'),
        sqs=boto3.client('sqs'),
        bucket=os.environ[r.ENV_MAIL_BUCKET],
        queue_url=aws['INGEST_QUEUE'],
        topic_arn=aws['INBOUND_TOPIC'],
        accepts=lambda address: address == 'support@inboxdesk.test',
    )
    gateway = SmtpGateway(handler, host='127.0.0.1', port=free_port())
    gateway.start()
    yield gateway
    gateway.stop()


def customer_mail(to: str = 'support@inboxdesk.test', subject: str = 'Printer on fire') -> EmailMessage:
    message = EmailMessage()
    message['From'] = 'Ada Customer <ada@example.org>'
    message['To'] = to
    message['Subject'] = subject
    message['Message-ID'] = make_msgid(domain='example.org')
    message.set_content('It is on fire.\nPlease help.\n')
    return message


def test_smtp_refuses_a_recipient_that_is_no_creation_address(smtp_gateway):
    # Given the SES-like SMTP server, When a client sends to an unknown mailbox
    with smtplib.SMTP('127.0.0.1', smtp_gateway.port, timeout=10) as client:
        client.ehlo()
        size_limit = client.esmtp_features.get('size')
        client.mail('ada@example.org')
        code, reply = client.rcpt('nobody@inboxdesk.test')

    # Then the recipient is refused with 550 5.1.1, as SES refuses it
    assert code == 550
    assert b'5.1.1' in reply
    # And the server announces SES's 40 MB message size limit
    assert size_limit == str(40 * 1024 * 1024)


def test_smtp_stores_the_mail_in_s3_and_posts_the_ses_notice(smtp_gateway, aws):
    # Given a mail to the creation address, written with a plus-tag and in capitals
    mail = customer_mail(to='Support+Billing@InboxDesk.TEST')

    # When it is sent over SMTP
    with smtplib.SMTP('127.0.0.1', smtp_gateway.port, timeout=10) as client:
        refused = client.send_message(mail)

    # Then it is accepted, and the ingest queue holds the SNS-wrapped SES receipt notice
    assert refused == {}
    sqs = boto3.client('sqs')
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=aws['INGEST_QUEUE'], WaitTimeSeconds=1).get('Messages'))
    envelope = json.loads(messages[0]['Body'])
    assert envelope['Type'] == 'Notification'
    assert envelope['TopicArn'] == aws['INBOUND_TOPIC']
    notice = json.loads(envelope['Message'])
    assert notice['notificationType'] == 'Received'
    assert notice['receipt']['recipients'] == ['Support+Billing@InboxDesk.TEST']
    assert notice['mail']['source'] == 'ada@example.org'
    assert notice['mail']['commonHeaders']['messageId'] == mail['Message-ID']
    assert notice['receipt']['spamVerdict'] == {'status': 'PASS'}
    action = notice['receipt']['action']
    assert action['type'] == 'S3'
    assert action['objectKey'] == f'raw/{notice["mail"]["messageId"]}'

    # And the S3 object is the mail as sent, after the trace headers SES prepends
    stored = boto3.client('s3').get_object(Bucket=action['bucketName'], Key=action['objectKey'])['Body'].read()
    assert stored.startswith(b'Return-Path: <ada@example.org>\r\n')
    assert b'It is on fire.' in stored
    assert mail['Message-ID'].encode() in stored


def test_smtp_flags_the_gtube_test_mail_as_spam(smtp_gateway, aws):
    # Given a mail carrying the GTUBE test string
    from inboxdesk_cli.local.ses_inbound import GTUBE

    mail = customer_mail()
    mail.set_content('Buy now!\n' + GTUBE.decode() + '\n')

    # When it is sent over SMTP
    with smtplib.SMTP('127.0.0.1', smtp_gateway.port, timeout=10) as client:
        client.send_message(mail)

    # Then SES's spam verdict in the notice is FAIL, the others stay PASS
    sqs = boto3.client('sqs')
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=aws['INGEST_QUEUE'], WaitTimeSeconds=1).get('Messages'))
    receipt = json.loads(json.loads(messages[0]['Body'])['Message'])['receipt']
    assert receipt['spamVerdict'] == {'status': 'FAIL'}
    assert receipt['virusVerdict'] == {'status': 'PASS'}


@pytest.fixture
def dev_log():
    """The lines the dev runtime writes to its log (the console of `inboxdesk dev`)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(level=logging.INFO)
    logger = logging.getLogger('inboxdesk_dev')
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_smtp_accepts_lines_longer_than_1000_characters(smtp_gateway, aws):
    # Given a mail with a 5,000-character line, as HTML mailers write them (SES accepts them)
    long_line = b'<p>' + b'x' * 5000 + b'</p>'
    raw = b'From: ada@example.org\r\nTo: support@inboxdesk.test\r\nSubject: Long\r\n\r\n' + long_line + b'\r\n'
    # When it is sent over SMTP
    with smtplib.SMTP('127.0.0.1', smtp_gateway.port, timeout=10) as client:
        refused = client.sendmail('ada@example.org', ['support@inboxdesk.test'], raw)
    # Then it is accepted and stored with the line whole
    assert refused == {}
    sqs = boto3.client('sqs')
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=aws['INGEST_QUEUE'], WaitTimeSeconds=1).get('Messages'))
    action = json.loads(json.loads(messages[0]['Body'])['Message'])['receipt']['action']
    stored = boto3.client('s3').get_object(Bucket=action['bucketName'], Key=action['objectKey'])['Body'].read()
    assert long_line + b'\r\n' in stored


def test_every_refused_delivery_leaves_a_line_with_its_reason(smtp_gateway, dev_log):
    # Given the SES-like SMTP server
    with smtplib.SMTP('127.0.0.1', smtp_gateway.port, timeout=10) as client:
        client.ehlo()
        # When a client sends to an unknown address, breaks the protocol's order and its syntax
        unknown = client.rcpt('nobody@inboxdesk.test')
        client.mail('ada@example.org')
        refused = client.rcpt('nobody@inboxdesk.test')
        broken = client.docmd('RCPT', 'nobody@inboxdesk.test')  # no TO:
    # Then each refusal was answered, and each left a line in the dev log with the reply it got
    assert unknown[0] == 503 and refused[0] == 550 and broken[0] == 501
    refusals = [line for line in dev_log if line.startswith('smtp: refused')]
    assert len(refusals) == 3, dev_log
    assert '503' in refusals[0]
    assert '550 5.1.1 <nobody@inboxdesk.test>: mailbox unavailable (not the address of any queue)' in refusals[1]
    assert '501' in refusals[2] and 'Syntax' in refusals[2]


def test_the_banner_names_every_address_the_smtp_door_accepts(aws):
    # Given the default queue and a second queue with two addresses
    from inboxdesk_cli.local.runtime import DevRuntime, DevSettings
    from tests.support.api import ADMIN, call

    runtime = DevRuntime(DevSettings())
    runtime._ensure_default_queue()
    sales = {'name': 'Sales', 'inbound_addresses': ['sales@inboxdesk.test', 'orders@inboxdesk.test']}
    assert call('POST', '/queues', claims=ADMIN, body=sales)[0] == 201
    # When the runtime describes itself
    banner = '\n'.join(runtime.describe())
    # Then the banner names each queue's addresses
    for address, queue in (
        ('support@inboxdesk.test', 'Support'),
        ('sales@inboxdesk.test', 'Sales'),
        ('orders@inboxdesk.test', 'Sales'),
    ):
        assert re.search(rf'{re.escape(address)}\s+queue {queue}', banner), banner


# --- the whole command ----------------------------------------------------------------------------------


class DevProcess:
    """`inboxdesk dev` in a subprocess on free ports, its output collected line by line."""

    def __init__(self, tmp_path: Path, ports: tuple[int, int, int] | None = None) -> None:
        self.host = '127.0.0.1'
        self.aws_port, self.smtp_port, self.api_port = ports or (free_port(), free_port(), free_port())
        self.catcher_port = free_port()
        self.data_dir = tmp_path / 'dev'
        # A user's shell: none of the test session's endpoint, Inboxdesk or service-name variables
        self.env = cli_env(
            {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(('AWS_ENDPOINT', 'INBOXDESK_')) and k != 'POWERTOOLS_SERVICE_NAME'
            }
        )
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                *INBOXDESK,
                'dev',
                f'--aws-port={self.aws_port}',
                f'--smtp-port={self.smtp_port}',
                f'--api-port={self.api_port}',
                f'--catcher-port={self.catcher_port}',
                f'--data-dir={self.data_dir}',
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def output(self) -> str:
        return '\n'.join(self.lines)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def command(self, *args: str) -> str:
        """What `inboxdesk ARGS` prints, run beside the data folder as the user's other terminal would."""
        done = subprocess.run(
            [*INBOXDESK, *args],
            cwd=self.data_dir.parent,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def tickets(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.command('tickets', '--json', f'--aws-port={self.aws_port}'))
        return rows

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.smtp_port, timeout=10) as client:
            client.send_message(message)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            self._reader.join(5)

    def wait_ready(self) -> None:
        if not wait_for(lambda: self.said('inboxdesk dev is ready') or self.process.poll() is not None, timeout=90):
            pytest.fail(f'inboxdesk dev did not start:\n{self.output()}')
        if self.process.poll() is not None:
            pytest.fail(f'inboxdesk dev exited with {self.process.returncode}:\n{self.output()}')

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def dev_system(tmp_path):
    dev = DevProcess(tmp_path)
    try:
        dev.wait_ready()
        yield dev
    finally:
        dev.kill()


def test_make_dev_turns_mail_into_a_ticket_threads_the_reply_and_stops_cleanly(dev_system, corpus_dir):
    dev = dev_system

    # Given the dev system, whose banner names the address its SMTP door accepts
    assert re.search(r'support@inboxdesk\.test\s+queue Support', dev.output()), dev.output()
    # When a customer writes to the default queue's creation address
    first = customer_mail(subject='Printer on fire')
    dev.send(first)

    # Then `inboxdesk tickets --json` shows the ticket in queue Support, and the console says so
    tickets = wait_for(lambda: dev.tickets(), timeout=20, interval=0.5)
    assert tickets, dev.output()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket['title'] == 'Printer on fire'
    assert ticket['queue'] == 'Support'
    assert ticket['customer_email'] == 'ada@example.org'
    assert ticket['message_count'] == 1
    assert ticket['status'] in {'new', 'open'}
    assert wait_for(lambda: dev.said(f'ticket #{ticket["number"]} created in queue Support')), dev.output()

    # When the customer answers it (In-Reply-To the first Message-ID)
    reply = customer_mail(subject='Re: Printer on fire')
    reply['In-Reply-To'] = first['Message-ID']
    reply['References'] = first['Message-ID']
    reply.set_content('Still burning.\n')
    dev.send(reply)

    # Then the answer threads into the same ticket
    def threaded():
        current = dev.tickets()
        return current if current and current[0]['message_count'] == 2 else None

    after = wait_for(threaded, timeout=20, interval=0.5)
    assert after, dev.output()
    assert [t['number'] for t in after] == [ticket['number']]
    assert wait_for(lambda: dev.said(f'appended to ticket #{ticket["number"]}')), dev.output()

    # When a real-world mail (Gmail, quoted-printable, RFC 2047 subject) arrives over SMTP
    raw = (corpus_dir / 'django-helpdesk/tests/test_files/quoted_printable.eml').read_bytes()
    with smtplib.SMTP(dev.host, dev.smtp_port, timeout=10) as client:
        client.sendmail('tim.thelion@gmail.com', ['support@inboxdesk.test'], raw)

    # Then it is a second ticket, listed first (newest first), its subject decoded
    listed = wait_for(lambda: (current := dev.tickets()) and len(current) == 2 and current, timeout=20, interval=0.5)
    assert listed, dev.output()
    assert listed[0]['title'] == 'Český test'
    assert listed[0]['customer_email'] == 'tim.thelion@gmail.com'
    assert listed[0]['number'] > listed[1]['number'] == ticket['number']

    # When mail from our own address comes in, Then it is dropped as a loop and makes no ticket
    own = customer_mail(subject='Automatic answer')
    own.replace_header('From', 'support@inboxdesk.test')
    dev.send(own)
    assert wait_for(lambda: dev.said('loop dropped'), timeout=20), dev.output()
    assert len(dev.tickets()) == 2

    # When a record that is no notice lands on the ingest queue, Then the handler reports it failed and the
    # worker leaves it for SQS to retry (and later dead-letter) instead of deleting it
    sqs = boto3.client('sqs', endpoint_url=f'http://{dev.host}:{dev.aws_port}')
    ingest_url = sqs.get_queue_url(QueueName=r.LOCAL_NAMES['INGEST_QUEUE'])['QueueUrl']
    sqs.send_message(QueueUrl=ingest_url, MessageBody='not a notice')
    assert wait_for(lambda: dev.said('failed (attempt 1 of 5): retried after the visibility timeout')), dev.output()
    assert queue_depth(sqs, ingest_url) == 1

    # And the API answers on its port, as API Gateway would
    with urllib.request.urlopen(f'http://{dev.host}:{dev.api_port}/health', timeout=10) as response:
        assert response.status == 200

    # When an agent tries an admin route, Then the API's "request denied" line is in handlers.jsonl under the
    # API's service name, and the console shows no JSON line of any handler
    # (the token is made in a folder without `.dev`: the command finds the running runtime's key)
    token = subprocess.run(
        [*INBOXDESK, 'token', '--role=agent', '--email=agent@example.org'],
        cwd=dev.data_dir.parent,
        env=dev.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    request = urllib.request.Request(
        f'http://{dev.host}:{dev.api_port}/queues',
        data=b'{"name": "Sales"}',
        headers={'Authorization': f'Bearer {token}', 'Content-Type': 'application/json'},
        method='POST',
    )
    with pytest.raises(urllib.error.HTTPError) as forbidden:
        urllib.request.urlopen(request, timeout=10)
    assert forbidden.value.code == 403

    def handler_lines() -> list[dict[str, Any]]:
        path = dev.data_dir / 'logs' / 'handlers.jsonl'
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    denied = wait_for(lambda: [line for line in handler_lines() if line['message'] == 'request denied'])
    assert [line['service'] for line in denied] == ['inboxdesk-api'], handler_lines()
    assert {line['service'] for line in handler_lines() if line['message'] == 'mail ingested'} == {'inboxdesk-inbound'}
    assert not [line for line in dev.lines if '{' in line], dev.output()

    # When someone writes to an address that is no queue's, Then SMTP refuses it with 550
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        dev.send(customer_mail(to='nobody@inboxdesk.test'))
    assert refused.value.recipients['nobody@inboxdesk.test'][0] == 550
    # And the console says which address was refused and why
    assert wait_for(lambda: dev.said('smtp: refused 550 5.1.1 <nobody@inboxdesk.test>')), dev.output()

    # When the user presses Ctrl-C, Then it stops cleanly with exit status 0
    assert dev.stop() == 0, dev.output()
    assert dev.said('stopped')
    assert not dev.said('Traceback'), dev.output()
    for port in (dev.aws_port, dev.smtp_port, dev.api_port):
        with socket.socket() as sock:
            assert sock.connect_ex((dev.host, port)) != 0, f'port {port} still open'


def test_dev_starts_again_on_the_same_ports_right_after_a_stop(dev_system, tmp_path):
    # Given a dev system that handled a mail (so its ports saw connections) and was stopped with Ctrl-C
    first = dev_system
    first.send(customer_mail())
    assert wait_for(lambda: first.said('created in queue Support')), first.output()
    assert first.stop() == 0, first.output()

    # When `inboxdesk dev` is started again at once on the same ports
    again = DevProcess(tmp_path, ports=(first.aws_port, first.smtp_port, first.api_port))
    try:
        # Then it starts (no "port in use" from the previous run's closed connections) and stops cleanly
        again.wait_ready()
        assert again.stop() == 0, again.output()
    finally:
        again.kill()


@pytest.mark.parametrize('command', ['tickets', 'outbox'])
def test_tickets_and_outbox_say_when_no_dev_system_is_running(command):
    # Given no dev system on a port, When `inboxdesk tickets` (or `outbox`) is asked, Then it explains and exits 1
    done = subprocess.run(
        [*INBOXDESK, command, f'--aws-port={free_port()}'],
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env({k: v for k, v in os.environ.items() if not k.startswith('AWS_ENDPOINT')}),
    )
    assert done.returncode == 1
    assert 'no dev system is running' in done.stderr


def test_dev_refuses_to_start_when_moto_already_runs_on_its_port(moto_endpoint, tmp_path):
    # Given a moto server already listening where the dev runtime wants its embedded AWS
    port = int(moto_endpoint.rsplit(':', 1)[1])

    # When `inboxdesk dev` is started on that port
    done = subprocess.run(
        [
            *INBOXDESK,
            'dev',
            f'--aws-port={port}',
            f'--smtp-port={free_port()}',
            f'--api-port={free_port()}',
            f'--catcher-port={free_port()}',
            f'--data-dir={tmp_path}',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=cli_env(),
    )

    # Then it exits 1 and says that a moto server is already running there
    assert done.returncode == 1
    assert 'moto server is already running' in done.stderr


def test_tickets_says_when_the_aws_there_is_no_dev_system(moto_endpoint):
    # Given a bare moto server without Inboxdesk's table, When `inboxdesk tickets` is pointed at it
    done = subprocess.run(
        [*INBOXDESK, 'tickets', f'--aws-port={moto_endpoint.rsplit(":", 1)[1]}'],
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(),
    )

    # Then it exits 1 with one clear line, no traceback
    assert done.returncode == 1
    assert 'is no Inboxdesk dev system' in done.stderr
    assert 'Traceback' not in done.stderr
