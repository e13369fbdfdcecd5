"""Settings the functions read from their environment, validated once per cold start.

A frozen dataclass, not pydantic: pydantic stays out of the inbound function's import path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from inboxdesk import resources
from inboxdesk.errors import ConfigurationError

ENV_QUEUE_CACHE_SECONDS = 'QUEUE_CACHE_SECONDS'
ENV_INLINE_BODY_LIMIT = 'INLINE_BODY_LIMIT'


@dataclass(frozen=True, slots=True)
class InboundSettings:
    table_name: str
    mail_bucket: str
    event_bus: str | None  # no bus: events are not published (logged once)
    own_domains: tuple[str, ...]  # every address in these domains is ours (creation-address domains)
    queue_cache_seconds: float  # how long a container trusts its copy of the queues (routing, own addresses)
    inline_body_limit: int  # bodies larger than this (UTF-8 bytes, text + html) go to S3


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == '':
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f'{name} must be an integer') from exc


@cache
def inbound_settings() -> InboundSettings:
    """The settings, read once; raises ConfigurationError when a required variable is missing."""
    missing = [name for name in (resources.ENV_TABLE, resources.ENV_MAIL_BUCKET) if not os.environ.get(name)]
    if missing:
        raise ConfigurationError(f'missing environment variables: {", ".join(missing)}')
    domains = tuple(d.strip().lower().lstrip('@') for d in os.environ.get(resources.ENV_OWN_DOMAINS, '').split(','))
    return InboundSettings(
        table_name=os.environ[resources.ENV_TABLE],
        mail_bucket=os.environ[resources.ENV_MAIL_BUCKET],
        event_bus=os.environ.get(resources.ENV_EVENT_BUS) or None,
        own_domains=tuple(d for d in domains if d),
        queue_cache_seconds=float(_int(ENV_QUEUE_CACHE_SECONDS, 60)),
        inline_body_limit=_int(ENV_INLINE_BODY_LIMIT, 4096),
    )
