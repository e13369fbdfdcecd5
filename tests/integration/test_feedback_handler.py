"""SES delivery events (SES's documented JSON, through SNS and SQS) -> the reply's delivery status,
through the real feedback handler on the embedded AWS."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from inboxdesk.dal import tickets as ticket_store
from tests.conftest import FIXTURES
from tests.support.api import AGENT, call, open_ticket
from tests.support.sqs import context, sqs_event

SES_EVENTS = FIXTURES / 'events' / 'ses'


def ses_event(name: str, ses_id: str) -> dict[str, Any]:
    return json.loads((SES_EVENTS / f'{name}.json').read_text().replace('{{SES_MESSAGE_ID}}', ses_id))


def sns_wrapped(event: dict[str, Any]) -> dict[str, Any]:
    """The SNS notification SQS receives from the configuration set's topic."""
    return {
        'Type': 'Notification',
        'MessageId': str(uuid.uuid4()),
        'TopicArn': 'arn:aws:sns:eu-west-1:123456789012:inboxdesk-ses-events-local',
        'Message': json.dumps(event),
        'Timestamp': '2026-12-01T10:41:03.000Z',
        'SignatureVersion': '1',
    }


def handle(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    from outbound.feedback import lambda_handler

    return lambda_handler(sqs_event(*bodies, queue='inboxdesk-feedback-local'), context('inboxdesk-feedback'))


@pytest.fixture
def sent_reply(aws) -> dict[str, str]:
    """An agent's reply that SES accepted as `<ses id@eu-west-1.amazonses.com>` (as the sender records it)."""
    ticket_id = open_ticket()['id']
    status, _, reply = call('POST', f'/tickets/{ticket_id}/replies', claims=AGENT, body={'text': 'Fixed it'})
    assert status == 202
    ses_id = f'0102018c{uuid.uuid4().hex}-000000'
    ticket_store.mark_delivery(
        ticket_id, reply['id'], status='sent', provider_message_ids=[f'<{ses_id}@eu-west-1.amazonses.com>']
    )
    return {'ticket_id': ticket_id, 'message_id': reply['id'], 'ses_id': ses_id}


def shown(reply: dict[str, str]) -> dict[str, Any]:
    messages = call('GET', f'/tickets/{reply["ticket_id"]}/messages', claims=AGENT)[2]['items']
    return next(m for m in messages if m['id'] == reply['message_id'])


def reply_to(reply: dict[str, str], cc: str) -> int:
    return call('POST', f'/tickets/{reply["ticket_id"]}/replies', claims=AGENT, body={'text': 'again', 'cc': [cc]})[0]


def test_a_permanent_bounce_shows_recipient_and_diagnostic_and_marks_the_address(sent_reply):
    # When SES reports a permanent bounce of the reply
    assert handle(sns_wrapped(ses_event('bounce_permanent', sent_reply['ses_id']))) == {'batchItemFailures': []}
    # Then agents see it bounced, for whom and why
    message = shown(sent_reply)
    assert message['delivery_status'] == 'bounced'
    assert 'jane@customer.test' in message['delivery_reason'] and '550 5.1.1 user unknown' in message['delivery_reason']
    # And the address is undeliverable from now on (in any spelling)
    assert reply_to(sent_reply, 'Jane+x@Customer.TEST') == 422


def test_a_transient_bounce_bounces_the_message_but_not_the_address(sent_reply):
    handle(sns_wrapped(ses_event('bounce_transient', sent_reply['ses_id'])))
    assert shown(sent_reply)['delivery_status'] == 'bounced'
    assert reply_to(sent_reply, 'jane@customer.test') == 202


def test_a_complaint_marks_the_message_and_the_address(sent_reply):
    handle(sns_wrapped(ses_event('complaint', sent_reply['ses_id'])))
    message = shown(sent_reply)
    assert message['delivery_status'] == 'complained' and 'jane@customer.test' in message['delivery_reason']
    assert reply_to(sent_reply, 'jane@customer.test') == 422


def test_delay_keeps_the_status_with_the_reason_then_delivery_clears_it(sent_reply):
    # When SES says delivery is delayed
    handle(sns_wrapped(ses_event('delivery_delay', sent_reply['ses_id'])))
    # Then the message is still sent, with the reason it is late
    message = shown(sent_reply)
    assert message['delivery_status'] == 'sent' and '421 4.4.1 Unable to connect' in message['delivery_reason']
    # When it is delivered after all, Then it shows delivered, and no reason
    handle(sns_wrapped(ses_event('delivery', sent_reply['ses_id'])))
    message = shown(sent_reply)
    assert message['delivery_status'] == 'delivered' and message['delivery_reason'] is None


def test_a_delivery_after_a_bounce_leaves_it_bounced(sent_reply):
    handle(sns_wrapped(ses_event('bounce_permanent', sent_reply['ses_id'])))
    handle(sns_wrapped(ses_event('delivery', sent_reply['ses_id'])))
    assert shown(sent_reply)['delivery_status'] == 'bounced'


def test_a_reject_fails_the_message(sent_reply):
    handle(sns_wrapped(ses_event('reject', sent_reply['ses_id'])))
    message = shown(sent_reply)
    assert message['delivery_status'] == 'failed' and 'Bad content' in message['delivery_reason']


def test_the_same_event_twice_is_applied_once(sent_reply):
    # Given a delivery, then a delay notice, then the delivery notice redelivered (SNS and SQS deliver at least once)
    delivery = ses_event('delivery', sent_reply['ses_id'])
    handle(sns_wrapped(delivery))
    ticket_store.mark_delivery(sent_reply['ticket_id'], sent_reply['message_id'], status='sent')  # reset to sent
    handle(sns_wrapped(delivery))  # a new SNS wrapper around the same SES event
    # Then the redelivered event did not apply again
    assert shown(sent_reply)['delivery_status'] == 'sent'


def test_the_us_east_1_form_and_raw_delivery_find_the_message(aws, sent_reply):
    ses_id = sent_reply['ses_id']
    ticket_store.mark_delivery(
        sent_reply['ticket_id'],
        sent_reply['message_id'],
        status='sent',
        provider_message_ids=[f'<{ses_id}@email.amazonses.com>'],
    )
    event = ses_event('delivery', ses_id)
    event['mail']['sourceArn'] = 'arn:aws:ses:us-east-1:123456789012:identity/help.inboxdesk.test'
    handle(event)  # raw message delivery: the SES event is the SQS body itself
    assert shown(sent_reply)['delivery_status'] == 'delivered'


def test_unknown_messages_are_tolerated_and_garbage_fails_alone(aws, capsys, caplog):
    caplog.set_level(logging.INFO)
    # Given a bounce for a message we never sent, an SES event we do not act on, and a record that is no SES event
    unknown = sns_wrapped(ses_event('bounce_permanent', 'never-sent-by-us'))
    opened = ses_event('delivery', 'x')
    opened['eventType'] = 'Open'
    response = handle(unknown, sns_wrapped(opened), '{"hello": "world"}')
    # Then only the garbage fails (SQS retries it, then the DLQ), the unknown message is logged as such
    assert len(response['batchItemFailures']) == 1
    assert [getattr(r, 'outcome', None) for r in caplog.records if r.getMessage() == 'ses event'] == ['unknown_message']
    assert 'SesFeedbackUnknownMessage' in capsys.readouterr().out  # the metric, in CloudWatch's embedded format
