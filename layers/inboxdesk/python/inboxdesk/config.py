"""Settings the functions read from their environment: one object per function, validated at cold start.

Each handler calls its loader (`inbound_settings()`, `api_settings()`) when it is imported, so a deploy
without a variable the function needs fails loudly there, before it accepts any work. The data layer
reads only `storage_settings()`, the part every function shares. Frozen dataclasses, not pydantic:
pydantic stays out of the inbound function's import path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from inboxdesk import resources
from inboxdesk.errors import ConfigurationError
from inboxdesk.ids import normalise_domain

ENV_QUEUE_CACHE_SECONDS = 'QUEUE_CACHE_SECONDS'
ENV_INLINE_BODY_LIMIT = 'INLINE_BODY_LIMIT'


@dataclass(frozen=True, slots=True)
class StorageSettings:
    table_name: str
    mail_bucket: str
    inline_body_limit: int  # bodies larger than this (UTF-8 bytes, text + html) go to S3


@dataclass(frozen=True, slots=True)
class InboundSettings:
    storage: StorageSettings
    event_bus: str | None  # no bus: events are not published (logged once)
    own_domains: tuple[str, ...]  # every address in these domains is ours (creation-address domains)
    queue_cache_seconds: float  # how long a container trusts its copy of the queues (routing, own addresses)
    outbound_queue_url: str  # acknowledgements of new tickets are queued for the reply sender
    reply_token_secret: str  # the key that verifies reply tokens (read only when a mail carries one)
    ingest_dlq_url: str  # a record that can never succeed goes here at once, not after every retry


@dataclass(frozen=True, slots=True)
class ApiSettings:
    storage: StorageSettings
    outbound_queue_url: str  # replies are accepted only when they can be queued for sending


@dataclass(frozen=True, slots=True)
class OutboundSettings:
    storage: StorageSettings
    ses_configuration_set: str  # every SES send goes through it, so bounces and deliveries come back
    reply_token_secret: str  # the Secrets Manager secret holding the reply-token key
    channel_secret_prefix: str | None  # where SMTP channels' passwords are
    smtp_host_allow_list: frozenset[str]  # hosts exempt from the public-address rule (stack configuration)
    max_receives: int  # the outbound queue's maxReceiveCount: the last try records `failed`


def _required(*names: str) -> dict[str, str]:
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ConfigurationError(f'missing environment variables: {", ".join(missing)}')
    return {name: os.environ[name] for name in names}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == '':
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f'{name} must be an integer, not {value!r}') from exc


@cache
def storage_settings() -> StorageSettings:
    """The table, the mail bucket and the inline body limit; ConfigurationError when one is missing."""
    found = _required(resources.ENV_TABLE, resources.ENV_MAIL_BUCKET)
    return StorageSettings(
        table_name=found[resources.ENV_TABLE],
        mail_bucket=found[resources.ENV_MAIL_BUCKET],
        inline_body_limit=_int(ENV_INLINE_BODY_LIMIT, 4096),
    )


@cache
def inbound_settings() -> InboundSettings:
    """The inbound function's settings, read once; ConfigurationError when a required variable is missing."""
    domains = (
        normalise_domain(d.strip().lstrip('@')) for d in os.environ.get(resources.ENV_OWN_DOMAINS, '').split(',')
    )
    found = _required(resources.ENV_OUTBOUND_QUEUE_URL, resources.ENV_REPLY_TOKEN_SECRET)
    return InboundSettings(
        storage=storage_settings(),
        event_bus=os.environ.get(resources.ENV_EVENT_BUS) or None,
        own_domains=tuple(d for d in domains if d),
        queue_cache_seconds=float(_int(ENV_QUEUE_CACHE_SECONDS, 60)),
        outbound_queue_url=found[resources.ENV_OUTBOUND_QUEUE_URL],
        reply_token_secret=found[resources.ENV_REPLY_TOKEN_SECRET],
        ingest_dlq_url=_required(resources.ENV_INGEST_DLQ_URL)[resources.ENV_INGEST_DLQ_URL],
    )


@cache
def api_settings() -> ApiSettings:
    """The API function's settings (also the reply sweep's), read once; ConfigurationError when one is missing."""
    storage = storage_settings()
    return ApiSettings(
        storage=storage,
        outbound_queue_url=_required(resources.ENV_OUTBOUND_QUEUE_URL)[resources.ENV_OUTBOUND_QUEUE_URL],
    )


@cache
def outbound_settings() -> OutboundSettings:
    """The reply sender's settings, read once; ConfigurationError when one is missing."""
    found = _required(resources.ENV_SES_CONFIGURATION_SET, resources.ENV_REPLY_TOKEN_SECRET)
    hosts = os.environ.get(resources.ENV_SMTP_HOST_ALLOW_LIST, '').split(',')
    return OutboundSettings(
        storage=storage_settings(),
        ses_configuration_set=found[resources.ENV_SES_CONFIGURATION_SET],
        reply_token_secret=found[resources.ENV_REPLY_TOKEN_SECRET],
        channel_secret_prefix=os.environ.get(resources.ENV_CHANNEL_SECRET_PREFIX) or None,
        smtp_host_allow_list=frozenset(h.strip().lower() for h in hosts if h.strip()),
        max_receives=max(1, _int(resources.ENV_OUTBOUND_MAX_RECEIVES, 5)),
    )


def feedback_settings() -> StorageSettings:
    """The SES feedback function needs only the table (and the bucket every function shares)."""
    return storage_settings()


def secret_id(variable: str) -> str:
    """The Secrets Manager id (ARN or name) a variable names; ConfigurationError when it is not set. Read on use:
    only the paths that need a secret need its variable."""
    return _required(variable)[variable]


def clear_settings() -> None:
    """Read the environment again on next use (tests and the dev runtime change it)."""
    for loader in (storage_settings, inbound_settings, api_settings, outbound_settings):
        loader.cache_clear()
