"""The one place that names Inboxdesk's AWS resources and the environment variables that carry them.

The CDK app (`infra/`) declares these resources and passes their real names to the functions
through the variables below; the dev runtime (`inboxdesk dev`) creates the same resources on
the embedded AWS under the `LOCAL_NAMES` and sets the same variables.
"""

from __future__ import annotations

from typing import Final

# The single DynamoDB table: string keys `pk`/`sk` and overloaded GSIs `gsiN` with
# `gsiNpk`/`gsiNsk` (all projected). What each index holds is written in `inboxdesk.dal.table`.
TABLE_HASH_KEY: Final = 'pk'
TABLE_RANGE_KEY: Final = 'sk'
TABLE_INDEXES: Final = ('gsi1', 'gsi2', 'gsi3', 'gsi4', 'gsi5')
TABLE_TTL_ATTRIBUTE: Final = 'expires_at'  # epoch seconds; DynamoDB deletes the item after it (rate counters)

# Prefixes inside the mail bucket.
RAW_MAIL_PREFIX: Final = 'raw/'  # SES receipt rules and pollers write raw MIME here
ATTACHMENT_PREFIX: Final = 'attachments/'
BODY_PREFIX: Final = 'bodies/'

# Environment variables every function reads (set by infra, by `inboxdesk dev`, by tests).
ENV_TABLE: Final = 'TABLE_NAME'
ENV_MAIL_BUCKET: Final = 'MAIL_BUCKET'
ENV_INGEST_QUEUE_URL: Final = 'INGEST_QUEUE_URL'
ENV_INGEST_DLQ_URL: Final = 'INGEST_DLQ_URL'  # where the inbound function puts a mail it can never store
ENV_OUTBOUND_QUEUE_URL: Final = 'OUTBOUND_QUEUE_URL'
ENV_EVENT_BUS: Final = 'EVENT_BUS_NAME'
ENV_OWN_DOMAINS: Final = 'OWN_MAIL_DOMAINS'  # comma-separated creation-address domains
ENV_SES_CONFIGURATION_SET: Final = 'SES_CONFIGURATION_SET'  # publishes bounce, complaint, delivery events
ENV_REPLY_TOKEN_SECRET: Final = 'REPLY_TOKEN_SECRET_ARN'  # the HMAC key of reply tokens (Secrets Manager)
ENV_CHANNEL_SECRET_PREFIX: Final = 'CHANNEL_SECRET_PREFIX'  # SMTP passwords: one secret per channel under it
ENV_SECRETS_KMS_KEY: Final = 'SECRETS_KMS_KEY_ID'  # the stack's KMS key for the secrets it writes (unset: AWS managed)
ENV_SMTP_HOST_ALLOW_LIST: Final = 'SMTP_HOST_ALLOW_LIST'  # comma-separated hosts exempt from the public-address rule
ENV_OUTBOUND_MAX_RECEIVES: Final = 'OUTBOUND_MAX_RECEIVES'  # the outbound queue's maxReceiveCount: the last try
ENV_CURSOR_SECRET: Final = 'CURSOR_SECRET_ARN'  # the HMAC key that signs API list cursors

LOCAL_NAMES: Final = {
    ENV_TABLE: 'inboxdesk-local',
    ENV_MAIL_BUCKET: 'inboxdesk-mail-local',
    'INGEST_QUEUE': 'inboxdesk-ingest-local',
    'INGEST_DLQ': 'inboxdesk-ingest-dlq-local',
    'OUTBOUND_QUEUE': 'inboxdesk-outbound-local',
    'OUTBOUND_DLQ': 'inboxdesk-outbound-dlq-local',
    'FEEDBACK_QUEUE': 'inboxdesk-feedback-local',
    'FEEDBACK_DLQ': 'inboxdesk-feedback-dlq-local',
    'FEEDBACK_TOPIC': 'inboxdesk-ses-events-local',
    ENV_SES_CONFIGURATION_SET: 'inboxdesk-local',
    ENV_REPLY_TOKEN_SECRET: 'inboxdesk/reply-token-key',
    ENV_CHANNEL_SECRET_PREFIX: 'inboxdesk/channels/',
    ENV_CURSOR_SECRET: 'inboxdesk/cursor-key',
    'INBOUND_TOPIC': 'inboxdesk-inbound-local',
    ENV_EVENT_BUS: 'inboxdesk-local',
}

# Our own loop header: every mail Inboxdesk sends carries it; inbound mail carrying it is dropped.
LOOP_HEADER: Final = 'X-Inboxdesk-Loop'
