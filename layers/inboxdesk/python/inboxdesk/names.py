"""Names shared by the code and the CDK app (`infra/` imports them from here): one definition each.

Resource names and the environment variables that carry them are in `inboxdesk.resources`."""

from __future__ import annotations

from typing import Final

# POWERTOOLS_SERVICE_NAME of each function: also the `service` dimension of the metrics it emits.
SERVICE_INBOUND: Final = 'inboxdesk-inbound'
SERVICE_API: Final = 'inboxdesk-api'
SERVICE_OUTBOUND: Final = 'inboxdesk-outbound'  # the reply sender
SERVICE_FEEDBACK: Final = 'inboxdesk-feedback'  # SES delivery events
SERVICE_REPLY_SWEEP: Final = 'inboxdesk-reply-sweep'

METRICS_NAMESPACE: Final = 'Inboxdesk'

# What the inbound function counts: one metric per ingestion outcome, and failures.
INBOUND_OUTCOME_METRICS: Final = {
    'created': 'InboundMailCreated',
    'appended': 'InboundMailAppended',
    'duplicate': 'InboundMailDuplicate',
    'loop_dropped': 'InboundMailLoopDropped',
    'bounce_linked': 'InboundMailBounceLinked',
    'skipped': 'InboundMailSkipped',
}
INBOUND_FAILED_METRIC: Final = 'InboundMailFailed'
# What the SES feedback function counts: one metric per outcome of an event.
FEEDBACK_OUTCOME_METRICS: Final = {
    'applied': 'SesFeedbackApplied',
    'duplicate': 'SesFeedbackDuplicate',
    'unknown_message': 'SesFeedbackUnknownMessage',
    'ignored': 'SesFeedbackIgnored',
}
FEEDBACK_FAILED_METRIC: Final = 'SesFeedbackFailed'
REPLY_SEND_FAILED_METRIC: Final = 'ReplySendFailed'  # a reply ended failed (permanent error or retries used up)
EVENT_PUBLISH_FAILED_METRIC: Final = 'EventPublishFailed'  # the bus refused ticket/message events
DEFAULT_QUEUE_CREATED_METRIC: Final = 'DefaultQueueCreated'
REPLY_TOKEN_REJECTED_METRIC: Final = 'ReplyTokenRejected'  # a token-shaped string whose MAC is wrong: ignored
ACKNOWLEDGEMENT_LIMITED_METRIC: Final = 'AcknowledgementRateLimited'  # stored as suppressed, not sent

# Cognito groups: an admin may do everything an agent may.
ADMINS_GROUP: Final = 'admins'
AGENTS_GROUP: Final = 'agents'

# API routes that API Gateway serves without the JWT authorizer (method, path).
HEALTH_PATH: Final = '/health'
OPENAPI_PATH: Final = '/openapi.json'
SWAGGER_PATH: Final = '/docs'
PUBLIC_ROUTES: Final = frozenset({('GET', HEALTH_PATH), ('GET', OPENAPI_PATH), ('GET', SWAGGER_PATH)})

# List pages of the API.
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200

# A queue made without a colour.
DEFAULT_QUEUE_COLOUR: Final = '#2563eb'
DEFAULT_QUEUE_NAME: Final = 'Support'

# Lambda handlers (module.function inside the shared `functions/` asset).
HANDLER_INBOUND: Final = 'inbound.handler.lambda_handler'  # SQS of SES notices and poller jobs
HANDLER_API: Final = 'api.handler.lambda_handler'
HANDLER_OUTBOUND: Final = 'outbound.handler.lambda_handler'  # SQS of reply jobs -> the reply sender
HANDLER_FEEDBACK: Final = 'outbound.feedback.lambda_handler'  # SQS of SES events (via SNS)
HANDLER_REPLY_SWEEP: Final = 'outbound.sweep.lambda_handler'  # scheduled: replies whose job never reached SQS
