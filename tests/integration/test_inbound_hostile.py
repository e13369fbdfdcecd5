"""Hostile mail through the real inbound function on the embedded AWS: metadata far beyond one DynamoDB item
still makes a ticket (every field bounded, long attachment lists in an S3 manifest the API reads), a mail
the table refuses goes to the DLQ at once and leaves no object behind, and a redelivery takes no number."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from tests.fixtures.hostile_mail import HOSTILE_MAILS, HOSTILE_METADATA_MAILS, huge_display_name, many_attachments
from tests.integration.test_inbound_handler import (
    BUCKET,
    SUPPORT,
    _emitted_counts,
    all_tickets,
    collect_outcomes,
    deliver,
    handle,
    make_mail,
    only_ticket,
    ses_body,
    sqs_event,
    store_raw,
    support,
)
from tests.support.api import AGENT, call

__all__ = ['support']  # the fixture, imported for these tests


def unique(raw: bytes) -> bytes:
    """The generated mails share one Message-ID: give each its own, so each is a new mail, not a duplicate."""
    return raw.replace(b'<hostile@example.net>', f'<{uuid.uuid4().hex}@example.net>'.encode(), 1)


def dead_letters(aws: dict[str, Any]) -> list[dict[str, Any]]:
    sqs = boto3.client('sqs')
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=aws['INGEST_DLQ'], MaxNumberOfMessages=10, MessageAttributeNames=['All'], WaitTimeSeconds=0
    ).get('Messages', []):
        found.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=aws['INGEST_DLQ'], ReceiptHandle=message['ReceiptHandle'])
    return found


def object_count() -> int:
    pages = boto3.client('s3').get_paginator('list_objects_v2').paginate(Bucket=BUCKET)
    return sum(page.get('KeyCount', 0) for page in pages)


@pytest.mark.parametrize('name', list(HOSTILE_METADATA_MAILS))
def test_metadata_beyond_an_item_still_makes_a_ticket_the_api_reads(support, aws, name):
    # Given a mail whose names, recipients or attachments alone would not fit one item
    raw = HOSTILE_METADATA_MAILS[name]()
    # When the inbound function handles it
    deliver(raw)
    # Then it is a ticket, nothing is in the DLQ, and every stored field is bounded
    ticket = only_ticket()
    assert dead_letters(aws) == []
    assert len(ticket.title) <= 200 and len(ticket.customer.name) <= 100
    assert ticket.customer.email == 'mallory@example.net'
    # And the API shows the whole conversation
    status, _, page = call('GET', f'/tickets/{ticket.id}/messages', claims=AGENT)
    assert status == 200
    [message] = page['items']
    people = [message['author'], *message['to'], *message['cc']]
    assert all(len(p['name']) <= 100 for p in people)
    assert all(len(a['filename']) <= 255 for a in message['attachments'])


def test_three_thousand_attachments_are_all_listed_and_served(support, aws):
    # Given a mail with 3,000 attachments (more than a message item keeps)
    deliver(many_attachments(3000))
    ticket = only_ticket()
    # When an agent lists the message's attachments
    status, _, page = call('GET', f'/tickets/{ticket.id}/messages', claims=AGENT)
    # Then all 3,000 are there, in order, and the last one is served like the first
    assert status == 200
    [message] = page['items']
    names = [a['filename'] for a in message['attachments']]
    assert names == [f'file-{i}.bin' for i in range(3000)]
    last = message['attachments'][-1]
    status, headers, _ = call('GET', last['download_url'], claims=AGENT)
    assert status == 302
    assert boto3.client('s3').get_object(Bucket=BUCKET, Key=_key_of(headers['location']))['Body'].read() == (
        b'attachment bytes ' * 4
    )


def _key_of(url: str) -> str:
    from urllib.parse import unquote, urlparse

    path = unquote(urlparse(url).path).lstrip('/')
    return path.removeprefix(f'{BUCKET}/')


def test_control_characters_leave_titles_and_names_but_their_words_stay(support):
    # Given a mail whose subject and sender name carry a terminal escape, C1 controls and a right-to-left override
    deliver(HOSTILE_METADATA_MAILS['control characters']())
    # When it is a ticket
    ticket = only_ticket()
    # Then the title and the customer's name keep their words, without a single control character
    assert ticket.title == 'Invoice [31mfdp.exe paid'
    assert ticket.customer.name == 'Mallory'


def test_the_whole_hostile_set_leaves_the_dlq_empty(support, aws):
    # Given every hostile mail of the reader's set and of the metadata set, each with its own Message-ID
    mails = {**HOSTILE_MAILS, **HOSTILE_METADATA_MAILS}
    keys = [store_raw(unique(generate())) for generate in mails.values()]
    # When the inbound function handles them, one record each
    failures = [handle(sqs_event(ses_body(key)))['batchItemFailures'] for key in keys]
    # Then every one is a ticket and nothing went to the DLQ
    assert failures == [[] for _ in mails]
    assert len(all_tickets()) == len(mails)
    assert dead_letters(aws) == []


def test_a_mail_the_table_refuses_goes_to_the_dlq_at_once_and_leaves_nothing(support, aws, monkeypatch, capsys):
    # Given a mail with attachments and a large body whose sender name would be stored whole (the bound lifted,
    # so the ticket item is over 400 KB) ...
    from inboxdesk.logic import ingest

    monkeypatch.setattr(ingest, 'NAME_LIMIT', 2_000_000)
    mail = make_mail(
        sender='Mallory <mallory@example.net>',
        body='words ' * 2000,
        attachments=[('a.pdf', 'application/pdf', b'%PDF-1.4 a'), ('b.png', 'image/png', b'\x89PNG\r\n\x1a\nb')],
    ).as_bytes()
    huge_from = huge_display_name().split(b'\r\n', 1)[0]  # composing a 1 MB name with `email` takes a minute
    key = store_raw(mail.replace(b'From: Mallory <mallory@example.net>', huge_from, 1))
    before = object_count()
    capsys.readouterr()
    # When the inbound function handles its notice
    body = ses_body(key)
    with collect_outcomes() as logged:
        response = handle(sqs_event(body))
    # Then the record is done (not retried), and the DLQ holds it with the reason
    assert response == {'batchItemFailures': []}
    [letter] = dead_letters(aws)
    assert json.loads(letter['Body']) == body
    assert 'StorageRefusedError' in letter['MessageAttributes']['reason']['StringValue']
    # And the failure is logged with its reason and counted as InboundMailFailed (which is alarmed)
    [line] = [record for record in logged.records if record.getMessage() == 'mail sent to the DLQ']
    assert line.reason.startswith('StorageRefusedError: ') and line.s3_key == key  # type: ignore[attr-defined]
    assert _emitted_counts(capsys.readouterr().out).get('InboundMailFailed') == 1
    # And no ticket, no number and no attachment or body object is left behind
    assert all_tickets() == []
    assert object_count() == before
    # And the next mail is a ticket as usual
    deliver(make_mail(subject='next'))
    assert only_ticket().title == 'next'


def test_a_redelivery_takes_no_ticket_number(support):
    # Given a mail that became ticket #1, delivered again through a second notice (another SES message id)
    mail = make_mail(subject='first')
    raw_key = store_raw(mail.as_bytes())
    for ses_id in ('ses-1', 'ses-2'):
        assert handle(sqs_event(ses_body(raw_key, ses_message_id=ses_id)))['batchItemFailures'] == []
    # When a new mail arrives
    deliver(make_mail(subject='second'))
    # Then it is ticket #2: the redelivery consumed no number
    assert sorted((t.number, t.title) for t in all_tickets()) == [(1, 'first'), (2, 'second')]


def test_our_own_address_with_a_trailing_dot_or_plus_tag_is_a_loop(support):
    # Given mail from our support address written as a fully qualified name, and with a tag and capitals
    for sender in (f'Support <{SUPPORT}.>', 'Support <Support+Team@INBOXDESK.test.>'):
        deliver(make_mail(sender=sender))
    # Then neither became a ticket
    assert all_tickets() == []
    # And a mail to that address with the dot routes to its queue
    deliver(make_mail(), recipients=[f'{SUPPORT}.'])
    assert only_ticket().queue_id == support.id
