"""SES feedback function: SQS records of SES events (through SNS, or raw) -> `logic.feedback`.

One structured line and one metric per event (`SesFeedback<Outcome>`). An event about a message we do
not know is logged and counted, not failed; a record that is not an SES event fails alone (retried, then
the DLQ)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from inboxdesk.config import feedback_settings
from inboxdesk.logic.feedback import apply_delivery_event, parse_ses_event
from inboxdesk.names import FEEDBACK_FAILED_METRIC, FEEDBACK_OUTCOME_METRICS, SERVICE_FEEDBACK
from inboxdesk.observability import count, metrics, service_name

logger = Logger(service=service_name(SERVICE_FEEDBACK))
processor = BatchProcessor(event_type=EventType.SQS)
feedback_settings()  # cold start: a deploy without the table fails here, loudly


def _ses_event(body: str) -> Any:
    """The SES event of an SQS body: an SNS notification wrapping it, or the event itself (raw delivery)."""
    data = json.loads(body)
    if isinstance(data, dict) and data.get('Type') == 'Notification' and isinstance(data.get('Message'), str):
        return json.loads(data['Message'])
    return data


def record_handler(record: SQSRecord) -> None:
    try:
        event = parse_ses_event(_ses_event(record.body))
    except ValueError:  # json.JSONDecodeError is a ValueError too
        logger.error('record is not an SES event', sqs_message_id=record.message_id)
        count(FEEDBACK_FAILED_METRIC)
        raise
    if event is None:
        logger.info('ses event skipped', sqs_message_id=record.message_id)
        return
    outcome = apply_delivery_event(event)
    logger.info('ses event', outcome=outcome, kind=event.kind, ses_message_id=event.ses_message_id)
    count(FEEDBACK_OUTCOME_METRICS[outcome])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
