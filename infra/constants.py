"""Paths, context keys and defaults of the CDK app. Names the code shares live in `inboxdesk.names` (services,
metrics, groups, routes, handlers) and `inboxdesk.resources` (resources and the variables that carry them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs import Construct

from inboxdesk import config

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / 'functions'  # the one code asset every function shares
DOMAIN_LAYER_DIR = REPO_ROOT / 'layers' / 'inboxdesk'  # holds python/inboxdesk -> /opt/python/inboxdesk
DEPS_LAYER_DIR = REPO_ROOT / 'layers' / 'deps'  # holds requirements.txt
PREBUILT_DEPS_DIR = REPO_ROOT / '.build' / 'deps'  # `make build` output: .build/deps/python

ASSET_EXCLUDES = ['**/__pycache__', '**/*.pyc', '*.egg-info', '**/*.egg-info', '.mypy_cache', '.ruff_cache']

STACK_ID = 'Inboxdesk'
LAMBDA_PYTHON_VERSION = '3.12'

# Tuning the functions read (inboxdesk.config); set explicitly so both writers of messages agree and the
# console shows them. Bodies over the limit (UTF-8 bytes, text + html) go to S3 under bodies/.
INLINE_BODY_LIMIT = 4096
QUEUE_CACHE_SECONDS = 60  # how long a container trusts its copy of the queues after another changed them
# The tuning variables of every function that writes messages (inbound mail, agents' replies and notes).
MESSAGE_WRITER_ENVIRONMENT = {
    config.ENV_INLINE_BODY_LIMIT: str(INLINE_BODY_LIMIT),
    config.ENV_QUEUE_CACHE_SECONDS: str(QUEUE_CACHE_SECONDS),
}

REQUEUE_EVERY_MINUTES = 1  # the API's sweep of replies whose job could not be put on the outbound queue
INGEST_OLDEST_AGE_ALARM_MINUTES = 15  # mail normally waits seconds; a retried one waits one visibility timeout
# SES puts an account under review at these rates (and may pause its sending at 10 % and 0.5 %).
SES_BOUNCE_REVIEW_RATE = 0.05
SES_COMPLAINT_REVIEW_RATE = 0.001

# cdk.json context keys
CTX_MAIL_DOMAINS = 'inboxdesk:mailDomains'
CTX_RULE_SET_NAME = 'inboxdesk:receiptRuleSetName'
CTX_ACTIVATE_RULE_SET = 'inboxdesk:activateReceiptRuleSet'
CTX_RAW_RETENTION_DAYS = 'inboxdesk:rawMailRetentionDays'
CTX_ALARM_EMAIL = 'inboxdesk:alarmEmail'
CTX_CORS_ORIGINS = 'inboxdesk:corsAllowOrigins'
CTX_LOG_RETENTION_DAYS = 'inboxdesk:logRetentionDays'
CTX_INBOUND_MAX_CONCURRENCY = 'inboxdesk:inboundMaxConcurrency'
CTX_API_RESERVED_CONCURRENCY = 'inboxdesk:apiReservedConcurrency'
CTX_API_THROTTLE_RATE = 'inboxdesk:apiThrottleRateLimit'
CTX_API_THROTTLE_BURST = 'inboxdesk:apiThrottleBurstLimit'
CTX_SMTP_HOST_ALLOW_LIST = 'inboxdesk:smtpHostAllowList'


def _context(scope: Construct, key: str, default: Any) -> Any:
    value = scope.node.try_get_context(key)
    return default if value is None or value == '' else value


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):  # `cdk synth -c key=a,b` passes a string
        return [item.strip() for item in value.split(',') if item.strip()]
    return [str(item).strip() for item in value if str(item).strip()]


@dataclass(frozen=True)
class Settings:
    """What the deployer configures in cdk.json (`context`) or with `cdk synth -c key=value`."""

    mail_domains: list[str]
    rule_set_name: str
    activate_rule_set: bool
    raw_mail_retention_days: int
    alarm_email: str | None
    cors_allow_origins: list[str]
    log_retention_days: int
    inbound_max_concurrency: int
    api_reserved_concurrency: int | None
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    smtp_host_allow_list: list[str]  # SMTP hosts a channel may name although they resolve to private addresses

    @classmethod
    def from_context(cls, scope: Construct) -> Settings:
        domains = [d.lower().lstrip('@') for d in _as_list(_context(scope, CTX_MAIL_DOMAINS, []))]
        if not domains:
            raise ValueError(f'context {CTX_MAIL_DOMAINS} must name at least one creation-address domain')
        reserved = _context(scope, CTX_API_RESERVED_CONCURRENCY, None)
        activate = _context(scope, CTX_ACTIVATE_RULE_SET, False)
        return cls(
            mail_domains=domains,
            rule_set_name=str(_context(scope, CTX_RULE_SET_NAME, 'inboxdesk-inbound')),
            activate_rule_set=activate is True or str(activate).lower() == 'true',
            raw_mail_retention_days=int(_context(scope, CTX_RAW_RETENTION_DAYS, 365)),
            alarm_email=str(_context(scope, CTX_ALARM_EMAIL, '')) or None,
            cors_allow_origins=_as_list(_context(scope, CTX_CORS_ORIGINS, [])),
            log_retention_days=int(_context(scope, CTX_LOG_RETENTION_DAYS, 30)),
            inbound_max_concurrency=int(_context(scope, CTX_INBOUND_MAX_CONCURRENCY, 5)),
            api_reserved_concurrency=None if reserved is None else int(reserved),
            api_throttle_rate_limit=int(_context(scope, CTX_API_THROTTLE_RATE, 50)),
            api_throttle_burst_limit=int(_context(scope, CTX_API_THROTTLE_BURST, 100)),
            smtp_host_allow_list=[h.lower() for h in _as_list(_context(scope, CTX_SMTP_HOST_ALLOW_LIST, []))],
        )
