"""Pure parts of the dev runtime: outcome lines, address matching, the SES notice, the tickets table."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from inboxdesk.ids import normalise_address
from inboxdesk_cli.aws_events import build_sqs_event
from inboxdesk_cli.commands.tickets import format_table, ticket_row
from inboxdesk_cli.local.outcomes import OutcomeLogHandler, describe_outcome
from inboxdesk_cli.local.ses_inbound import build_receipt_notice, stored_mail, verdicts
from inboxdesk_cli.local.worker import failed_ids

RAW = (
    b'From: Ada <ada@example.org>\r\nTo: Support <support@inboxdesk.test>, bob@example.org\r\n'
    b'Subject: Printer on fire\r\nMessage-ID: <m1@example.org>\r\n\r\nHelp.\r\n'
)


@pytest.mark.parametrize(
    ('fields', 'line'),
    [
        ({'outcome': 'created', 'ticket_number': 3, 'queue': 'Support'}, 'ticket #3 created in queue Support'),
        ({'outcome': 'appended', 'ticket_number': 3}, 'appended to ticket #3'),
        ({'outcome': 'duplicate'}, 'duplicate ignored'),
        ({'outcome': 'loop_dropped'}, 'loop dropped (our own mail coming back: our own address; kept in S3)'),
        (
            {'outcome': 'loop_dropped', 'reason': 'own-message-id'},
            'loop dropped (our own mail coming back: one of our Message-IDs; kept in S3)',
        ),
        ({'msg': 'reply', 'outcome': 'sent', 'receive_count': 1}, 'outgoing mail sent'),
        ({'msg': 'reply', 'outcome': 'sent', 'receive_count': 2}, 'outgoing mail sent (try 2)'),
        ({'msg': 'ses event', 'outcome': 'applied', 'kind': 'delivery'}, 'SES delivery event applied'),
        ({'message': 'no outcome here'}, None),
    ],
)
def test_each_outcome_reads_as_one_human_line(fields, line):
    # Given the handler's structured fields, When described, Then the console line says what happened
    assert describe_outcome(fields) == line


def test_a_powertools_log_record_becomes_the_outcome_line():
    from aws_lambda_powertools import Logger

    # Given a Powertools logger (as the inbound handler has) with the outcome handler attached
    handler_logger = Logger(service='inboxdesk-test-outcomes')
    target = logging.getLogger('inboxdesk-test-console')
    target.propagate = False
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    target.addHandler(Collect())
    target.setLevel(logging.INFO)
    logging.getLogger(handler_logger.service).addHandler(OutcomeLogHandler(target))

    # When the handler logs an outcome with keyword arguments, and an unrelated line
    handler_logger.info('mail ingested', outcome='created', ticket_number=7, queue='Billing', ticket_id='t-7')
    handler_logger.info('reading raw mail', s3_key='raw/x')

    # Then exactly one human line came out
    assert lines == ['ticket #7 created in queue Billing']


@pytest.mark.parametrize(
    ('address', 'normalised'),
    [
        ('Support+Billing@InboxDesk.TEST', 'support@inboxdesk.test'),
        ('<support@inboxdesk.test>', 'support@inboxdesk.test'),
        ('support@inboxdesk.test', 'support@inboxdesk.test'),
        ('support@INBOXDESK.test.', 'support@inboxdesk.test'),
        ('help@bücher.example', 'help@xn--bcher-kva.example'),
    ],
)
def test_creation_addresses_match_without_case_and_plus_tags(address, normalised):
    assert normalise_address(address) == normalised


def test_the_notice_is_an_sns_envelope_around_ses_json():
    # Given a stored mail, When its notice is built
    received = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    body = build_receipt_notice(
        raw=RAW,
        ses_id='a' * 40,
        mail_from='ada@example.org',
        recipients=['support@inboxdesk.test'],
        bucket='bucket',
        object_key='raw/' + 'a' * 40,
        topic_arn='arn:aws:sns:eu-west-1:123456789012:inbound',
        received=received,
    )

    # Then it has SES's fields, and the headers SES reports
    envelope = json.loads(body)
    ses = json.loads(envelope['Message'])
    assert envelope['Type'] == 'Notification'
    assert ses['mail']['timestamp'] == '2026-01-02T03:04:05.678Z'
    assert ses['mail']['destination'] == ['support@inboxdesk.test']
    assert ses['mail']['commonHeaders']['to'] == ['Support <support@inboxdesk.test>', 'bob@example.org']
    assert ses['mail']['commonHeaders']['subject'] == 'Printer on fire'
    assert ses['mail']['commonHeaders']['messageId'] == '<m1@example.org>'
    assert ses['mail']['messageId'] == 'a' * 40
    assert ses['receipt']['action'] == {
        'type': 'S3',
        'topicArn': 'arn:aws:sns:eu-west-1:123456789012:inbound',
        'bucketName': 'bucket',
        'objectKeyPrefix': 'raw/',
        'objectKey': 'raw/' + 'a' * 40,
    }
    assert ses['receipt']['dmarcVerdict'] == {'status': 'PASS'}


def test_stored_mail_gets_ses_trace_headers_and_keeps_the_rest():
    stored = stored_mail(
        RAW, mail_from='', recipient='support@inboxdesk.test', ses_id='b' * 40, received=datetime.now(UTC)
    )
    # Then a null sender shows as an empty Return-Path (bounces), and the original bytes follow unchanged
    assert stored.startswith(b'Return-Path: <>\r\nReceived: from localhost by ')
    assert stored.endswith(RAW)


def test_eicar_attachment_fails_the_virus_verdict():
    import base64

    from inboxdesk_cli.local.ses_inbound import EICAR

    attached = RAW + b'\r\n' + base64.encodebytes(EICAR)
    assert verdicts(attached)['virusVerdict'] == {'status': 'FAIL'}
    assert verdicts(RAW)['virusVerdict'] == {'status': 'PASS'}


def test_failed_ids_reads_partial_batch_responses():
    assert failed_ids({'batchItemFailures': [{'itemIdentifier': 'a'}, {'itemIdentifier': 'b'}]}) == {'a', 'b'}
    assert failed_ids({'batchItemFailures': []}) == set()
    assert failed_ids(None) == set()


def test_sqs_event_records_have_lambdas_shape():
    event = build_sqs_event(
        [{'MessageId': 'm', 'ReceiptHandle': 'h', 'Body': 'b', 'Attributes': {'ApproximateReceiveCount': '1'}}],
        queue_arn='arn:aws:sqs:eu-west-1:123456789012:q',
        region='eu-west-1',
    )
    assert event['Records'][0] == {
        'messageId': 'm',
        'receiptHandle': 'h',
        'body': 'b',
        'attributes': {'ApproximateReceiveCount': '1'},
        'messageAttributes': {},
        'md5OfBody': '',
        'eventSource': 'aws:sqs',
        'eventSourceARN': 'arn:aws:sqs:eu-west-1:123456789012:q',
        'awsRegion': 'eu-west-1',
    }


def test_tickets_table_lists_rows_under_headers():
    from types import SimpleNamespace

    class Ticket:  # the fields `list_tickets` gives
        number = 12
        title = 'Printer on fire'
        status = 'new'
        queue_id = 'q1'
        customer = SimpleNamespace(name='Ada', email='ada@example.org')
        message_count = 2

    row = ticket_row(Ticket(), {'q1': 'Support'})
    assert row == {
        'number': 12,
        'title': 'Printer on fire',
        'status': 'new',
        'queue': 'Support',
        'customer_email': 'ada@example.org',
        'message_count': 2,
    }
    lines = format_table([row]).splitlines()
    assert lines[0].split() == ['#', 'TITLE', 'STATUS', 'QUEUE', 'CUSTOMER', 'MESSAGES']
    assert lines[1].split()[0] == '12' and 'ada@example.org' in lines[1]
