"""SMTP channels through the real API handler: the password only in Secrets Manager, the host and port
rules when saved, and `POST /channels/{id}/test` against real aiosmtpd servers (STARTTLS, implicit TLS)."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest

from inboxdesk import resources
from tests.integration.smtp_servers import PASSWORD, USER, Certificates, make_certificates, smtp_server
from tests.support.api import ADMIN, call


@pytest.fixture(scope='module')
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp('channel-certs'))


@pytest.fixture
def catcher_allowed(aws, monkeypatch, certificates):
    """As the dev runtime runs: the loopback catcher allow-listed, its CA trusted by the default TLS context."""
    monkeypatch.setenv(resources.ENV_SMTP_HOST_ALLOW_LIST, 'localhost')
    monkeypatch.setenv('SSL_CERT_FILE', str(certificates.ca_file))


def _smtp_body(
    port: int, *, password: str = PASSWORD, tls_mode: str = 'starttls', host: str = 'localhost'
) -> dict[str, Any]:
    return {
        'kind': 'smtp',
        'from_address': 'support@customer-mail.test',
        'display_name': 'Acme Support',
        'smtp': {'host': host, 'port': port, 'tls_mode': tls_mode, 'username': USER, 'password': password},
    }


def _table_items() -> list[dict[str, Any]]:
    client = boto3.client('dynamodb')
    return client.scan(TableName=resources.LOCAL_NAMES[resources.ENV_TABLE])['Items']


def test_the_password_is_only_in_secrets_manager(catcher_allowed, capsys, caplog, monkeypatch):
    caplog.set_level(logging.INFO)  # what a function logs (botocore wire logs are DEBUG, off on Lambda)
    kms_key = boto3.client('kms').create_key(Description='inboxdesk secrets')['KeyMetadata']['KeyId']
    monkeypatch.setenv(resources.ENV_SECRETS_KMS_KEY, kms_key)
    secret = 'pa55-Only-In-Secrets-Manager'
    # Given an admin creates an smtp channel, lists it, reads it, changes it and tests it
    status, _, created = call('POST', '/channels', claims=ADMIN, body=_smtp_body(587, password=secret))
    assert status == 201, created
    answers = [created]
    answers.append(call('GET', '/channels', claims=ADMIN)[2])
    answers.append(call('GET', f'/channels/{created["id"]}', claims=ADMIN)[2])
    answers.append(
        call('PATCH', f'/channels/{created["id"]}', claims=ADMIN, body={'smtp': {'password': secret + '2'}})[2]
    )
    answers.append(call('POST', f'/channels/{created["id"]}/test', claims=ADMIN)[2])  # nothing listens: fails
    # Then the password is in Secrets Manager under the channel prefix, encrypted with the stack's key
    name = resources.LOCAL_NAMES[resources.ENV_CHANNEL_SECRET_PREFIX] + created['id']
    secrets = boto3.client('secretsmanager')
    assert secrets.get_secret_value(SecretId=name)['SecretString'] == secret + '2'
    assert secrets.describe_secret(SecretId=name)['KmsKeyId'] == kms_key
    # And in no answer, no item of the table and no log line
    assert created['smtp'] == {
        'host': 'localhost',
        'port': 587,
        'tls_mode': 'starttls',
        'username': USER,
        'password_set': True,
    }
    everything = json.dumps(answers) + json.dumps(_table_items()) + capsys.readouterr().out + caplog.text
    assert secret not in everything
    # When the channel is deleted, Then its password goes with it
    assert call('DELETE', f'/channels/{created["id"]}', claims=ADMIN)[0] == 204
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId=name)


@pytest.mark.parametrize('mode', ['starttls', 'implicit'])
def test_a_channel_test_logs_in_without_sending(catcher_allowed, certificates, mode):
    with smtp_server(certificates, mode) as server:
        # Given a channel pointing at a server with the right password
        status, _, channel = call('POST', '/channels', claims=ADMIN, body=_smtp_body(server.port, tls_mode=mode))
        assert status == 201, channel
        # When an admin tests it, Then it passes, logged in and sent nothing
        status, _, result = call('POST', f'/channels/{channel["id"]}/test', claims=ADMIN)
        assert status == 200 and result['ok'], result
        assert result['channel']['status'] == 'active'
        assert server.recorder.received == []


def test_a_wrong_password_is_named_and_the_channel_needs_attention(catcher_allowed, certificates):
    with smtp_server(certificates, 'starttls') as server:
        status, _, channel = call('POST', '/channels', claims=ADMIN, body=_smtp_body(server.port, password='wrong'))
        assert status == 201, channel
        # When the test runs with a password the server refuses
        status, _, result = call('POST', f'/channels/{channel["id"]}/test', claims=ADMIN)
        # Then it says so in plain words and the channel shows it needs attention
        assert status == 200 and not result['ok'] and result['stage'] == 'auth'
        assert 'user name or password' in result['detail']
        shown = call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[2]
        assert shown['status'] == 'needs_attention' and 'user name or password' in shown['status_reason']
        # When the admin fixes the password, Then the next test passes and the channel is active again
        call('PATCH', f'/channels/{channel["id"]}', claims=ADMIN, body={'smtp': {'password': PASSWORD}})
        assert call('POST', f'/channels/{channel["id"]}/test', claims=ADMIN)[2]['ok']
        assert call('GET', f'/channels/{channel["id"]}', claims=ADMIN)[2]['status'] == 'active'


def test_a_test_against_nothing_names_the_connection(catcher_allowed):
    from tests.conftest import free_port

    status, _, channel = call('POST', '/channels', claims=ADMIN, body=_smtp_body(free_port()))
    assert status == 201
    result = call('POST', f'/channels/{channel["id"]}/test', claims=ADMIN)[2]
    assert not result['ok'] and result['stage'] == 'tcp' and 'localhost' in result['detail']


@pytest.mark.parametrize(
    ('host', 'port', 'field'),
    [
        ('127.0.0.1', 587, 'smtp.host'),
        ('::1', 587, 'smtp.host'),
        ('10.1.2.3', 587, 'smtp.host'),
        ('172.16.0.9', 587, 'smtp.host'),
        ('192.168.1.1', 587, 'smtp.host'),
        ('169.254.169.254', 587, 'smtp.host'),
        ('fd00::1', 587, 'smtp.host'),
        ('localhost', 587, 'smtp.host'),  # a name that resolves to loopback
        ('mail.example.com', 8025, 'smtp.port'),
    ],
)
def test_private_hosts_and_other_ports_are_refused_when_saved(aws, host, port, field):
    # Given no allow-list (as in production): When an admin saves such a channel, Then it is refused
    status, _, problem = call('POST', '/channels', claims=ADMIN, body=_smtp_body(port, host=host))
    assert status == 422 and problem['detail'].startswith(field), problem
    # And nothing was stored: no channel, no secret
    assert call('GET', '/channels', claims=ADMIN)[2]['items'] == []
    prefix = resources.LOCAL_NAMES[resources.ENV_CHANNEL_SECRET_PREFIX]
    assert [
        s for s in boto3.client('secretsmanager').list_secrets()['SecretList'] if s['Name'].startswith(prefix)
    ] == []
