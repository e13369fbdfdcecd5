"""The SES transport against SES v2 in moto server: raw mail sent through a configuration set,
SES's Message-ID forms returned, refusals reported in words."""

from __future__ import annotations

import io
import json
import urllib.request
from typing import Any

import boto3
import pytest

from inboxdesk.errors import PermanentSendError, TransientSendError
from inboxdesk.integrations.ses import MAX_RAW_SIZE, SesTransport
from inboxdesk.mail.compose import OutgoingAttachment, OutgoingMail, compose
from tests.conftest import free_port

CONFIGURATION_SET = 'inboxdesk-test'


def ses_ready(region: str) -> None:
    ses = boto3.client('sesv2', region_name=region)
    ses.create_email_identity(EmailIdentity='inboxdesk.test')
    ses.create_configuration_set(ConfigurationSetName=CONFIGURATION_SET)


def sent_in_moto(endpoint: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f'{endpoint}/moto-api/data.json') as answer:
        data: dict[str, Any] = json.load(answer)
    return list(data['ses']['RawMessage'])


def raw_reply() -> bytes:
    data = bytes(range(256)) * 100
    return compose(
        OutgoingMail(
            from_address='support@inboxdesk.test',
            from_name='Acme Support',
            to=(('Ana Pérez', 'ana@customer.test'),),
            cc=(('', 'bob@customer.test'),),
            reply_to='support@inboxdesk.test',
            subject='Re: Printer broken [#12]',
            message_id='m1@inboxdesk.test',
            in_reply_to='c1@customer.test',
            references=('c1@customer.test',),
            text='Hello Ana,\nwe replaced the drum.',
            attachments=(
                OutgoingAttachment('drum.bin', 'application/octet-stream', len(data), lambda: io.BytesIO(data)),
            ),
        )
    )


def test_ses_sends_the_raw_mail_and_returns_its_message_id_forms(aws: dict[str, str], moto_endpoint: str) -> None:
    # Given a verified sending domain and a configuration set in eu-west-1
    ses_ready('eu-west-1')
    raw = raw_reply()

    # When a composed reply is sent through SES
    sent = SesTransport(CONFIGURATION_SET, 'eu-west-1').send(
        raw, sender='support@inboxdesk.test', recipients=['ana@customer.test', 'bob@customer.test']
    )

    # Then SES has exactly that mail for that envelope
    [message] = sent_in_moto(moto_endpoint)
    assert message['raw_data'] == raw.decode('ascii')
    assert message['source'] == 'support@inboxdesk.test'
    assert message['destinations'][:2] == ['ana@customer.test', 'bob@customer.test']  # moto adds the header ones
    # and we know the Message-ID SES stamps on it
    assert sent.provider_id == message['id']
    assert sent.provider_message_ids == (f'<{message["id"]}@eu-west-1.amazonses.com>',)


def test_in_us_east_1_the_email_amazonses_form_is_returned(aws: dict[str, str], moto_endpoint: str) -> None:
    # Given SES in us-east-1
    ses_ready('us-east-1')

    # When a mail is sent there
    sent = SesTransport(CONFIGURATION_SET, 'us-east-1').send(
        raw_reply(), sender='support@inboxdesk.test', recipients=['ana@customer.test']
    )

    # Then the email.amazonses.com form SES uses there comes first
    assert sent.provider_id
    assert sent.provider_message_ids == (
        f'<{sent.provider_id}@email.amazonses.com>',
        f'<{sent.provider_id}@us-east-1.amazonses.com>',
    )


def test_an_unverified_sender_is_refused_permanently_with_the_reason(aws: dict[str, str], moto_endpoint: str) -> None:
    # Given SES where only inboxdesk.test is verified
    ses_ready('eu-west-1')

    # When a mail is sent from another domain
    with pytest.raises(PermanentSendError) as refused:
        SesTransport(CONFIGURATION_SET, 'eu-west-1').send(
            raw_reply(), sender='support@unverified.test', recipients=['ana@customer.test']
        )

    # Then it fails for good, saying SES rejected it and why
    assert refused.value.reason.startswith('Amazon SES rejected the mail: ')
    assert 'support@unverified.test' in refused.value.reason
    assert sent_in_moto(moto_endpoint) == []


def test_a_mail_over_40_mb_is_refused_before_it_is_sent(aws: dict[str, str], moto_endpoint: str) -> None:
    # Given a raw mail one byte over SES's limit
    ses_ready('eu-west-1')
    raw = b'Subject: big\r\n\r\n' + b'x' * (MAX_RAW_SIZE - 15)

    # When it is sent
    with pytest.raises(PermanentSendError) as refused:
        SesTransport(CONFIGURATION_SET, 'eu-west-1').send(raw, sender='support@inboxdesk.test', recipients=['a@x.test'])

    # Then it is refused with the sizes, and SES never saw it
    assert refused.value.reason == 'the mail is 40.0 MB; Amazon SES sends at most 40 MB'
    assert sent_in_moto(moto_endpoint) == []


def test_ses_out_of_reach_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an endpoint where nothing listens (and no retries inside botocore)
    monkeypatch.setenv('AWS_ENDPOINT_URL', f'http://127.0.0.1:{free_port()}')
    monkeypatch.setenv('AWS_MAX_ATTEMPTS', '1')

    # When a mail is sent
    with pytest.raises(TransientSendError) as failed:
        SesTransport(CONFIGURATION_SET, 'eu-west-1').send(
            raw_reply(), sender='support@inboxdesk.test', recipients=['ana@customer.test']
        )

    # Then it can be tried again later
    assert 'Amazon SES could not be reached' in failed.value.reason
