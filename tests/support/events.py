"""The events Lambda's triggers hand the handlers, for tests that call a handler directly. The shapes
are the ones the dev runtime builds (`inboxdesk_cli.aws_events`), so tests and `make dev` feed the
handlers alike."""

from __future__ import annotations

from inboxdesk_cli.aws_events import (
    LambdaContext,
    api_gateway_event,
    build_sqs_event,
    claims_as_authorizer_context,
    scheduled_event,
    ses_receipt_notice,
)

__all__ = [
    'LambdaContext',
    'api_gateway_event',
    'build_sqs_event',
    'claims_as_authorizer_context',
    'scheduled_event',
    'ses_receipt_notice',
]
