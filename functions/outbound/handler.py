"""Reply sender: SQS records of reply jobs -> `logic.delivery.deliver_reply`, one at a time.

A transient failure fails its record alone (partial batch response), so SQS retries it with backoff;
the last receive (`OUTBOUND_MAX_RECEIVES`, the queue's maxReceiveCount) records `failed` instead, and
the job still goes to the DLQ so the alarm fires. Every reply that ends failed counts `ReplySendFailed`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from inboxdesk.config import outbound_settings
from inboxdesk.errors import TransientSendError
from inboxdesk.logic.delivery import Attempt, deliver_reply
from inboxdesk.models import ReplyJob
from inboxdesk.names import REPLY_SEND_FAILED_METRIC, SERVICE_OUTBOUND
from inboxdesk.observability import count, metrics, service_name

logger = Logger(service=service_name(SERVICE_OUTBOUND))
processor = BatchProcessor(event_type=EventType.SQS)
SETTINGS = outbound_settings()  # cold start: a deploy without a variable the sender needs fails here, loudly


def record_handler(record: SQSRecord) -> None:
    try:
        job = ReplyJob.from_json(json.loads(record.body))
    except (ValueError, KeyError, TypeError):
        logger.error('record is not a reply job', sqs_message_id=record.message_id)
        raise
    attempt = Attempt(
        receive_count=int(record.attributes.approximate_receive_count or 1), max_receives=SETTINGS.max_receives
    )
    with logger.append_context_keys(ticket_id=job.ticket_id, message_id=job.message_id):
        try:
            outcome = deliver_reply(job, attempt)
        except TransientSendError as exc:
            logger.warning('reply not sent yet', reason=exc.reason, receive_count=attempt.receive_count)
            raise
        logger.info('reply', outcome=outcome, receive_count=attempt.receive_count)
        if outcome in ('failed', 'unknown_outcome'):
            count(REPLY_SEND_FAILED_METRIC)
            if attempt.last:
                raise RuntimeError('reply failed on its last try')  # to the DLQ, where the alarm watches


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
