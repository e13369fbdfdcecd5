"""Secrets in Secrets Manager: the reply-token key, and channel passwords (one secret per channel under
`CHANNEL_SECRET_PREFIX`, encrypted with the stack's KMS key `SECRETS_KMS_KEY_ID` when one is set).
A password leaves this module only for the transport that logs in with it."""

from __future__ import annotations

import contextlib
import os
from functools import cache
from typing import Any

from inboxdesk import resources
from inboxdesk.errors import ConfigurationError


@cache
def _client() -> Any:
    import boto3  # lazily: the API's cold start does not pay for it unless a channel is saved

    return boto3.client('secretsmanager')


def _prefix() -> str:
    prefix = os.environ.get(resources.ENV_CHANNEL_SECRET_PREFIX)
    if not prefix:
        raise ConfigurationError(f'{resources.ENV_CHANNEL_SECRET_PREFIX} is not set')
    return prefix


def channel_secret_name(channel_id: str) -> str:
    return f'{_prefix()}{channel_id}'


def put_channel_password(channel_id: str, password: str) -> str:
    """Create or replace the channel's password; returns the secret's name."""
    name = channel_secret_name(channel_id)
    client = _client()
    try:
        client.put_secret_value(SecretId=name, SecretString=password)
    except client.exceptions.ResourceNotFoundException:
        extra = {'KmsKeyId': key} if (key := os.environ.get(resources.ENV_SECRETS_KMS_KEY)) else {}
        client.create_secret(Name=name, SecretString=password, Description='Inboxdesk SMTP channel password', **extra)
    return name


def get_channel_password(secret_name: str) -> str:
    return str(_client().get_secret_value(SecretId=secret_name)['SecretString'])


def delete_channel_password(secret_name: str) -> None:
    """Gone at once: a channel id is never reused, and a deleted channel's password must not linger."""
    client = _client()
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_secret(SecretId=secret_name, ForceDeleteWithoutRecovery=True)


@cache
def reply_token_key() -> bytes:
    """The HMAC key of reply tokens (`REPLY_TOKEN_SECRET_ARN`), read once per container."""
    name = os.environ.get(resources.ENV_REPLY_TOKEN_SECRET)
    if not name:
        raise ConfigurationError(f'{resources.ENV_REPLY_TOKEN_SECRET} is not set')
    return str(_client().get_secret_value(SecretId=name)['SecretString']).encode('utf-8')
