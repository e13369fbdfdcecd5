"""Inbound function: SQS records (SES receipt notices via SNS, poller jobs) -> `logic.ingest`.

One structured line per record: `mail ingested` with outcome, ticket_number, queue, ticket_id,
s3_key (the dev runtime formats these), and one metric per outcome (`InboundMail<Outcome>`).
A record whose raw mail cannot be fetched, or that is not a notice at all, fails alone: SQS
retries it and then moves it to the DLQ. A mail the table refuses as invalid (`StorageRefusedError`:
retrying cannot help) goes to the DLQ at once, with the reason logged and as a message attribute, and
the record is reported done; both kinds count as `InboundMailFailed`, which is alarmed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from inboxdesk.config import inbound_settings
from inboxdesk.dal.dead_letters import send_dead_letter
from inboxdesk.errors import StorageRefusedError
from inboxdesk.logic.ingest import ingest
from inboxdesk.names import INBOUND_FAILED_METRIC, INBOUND_OUTCOME_METRICS
from inboxdesk.notices import parse_notice
from inboxdesk.observability import count, logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)
inbound_settings()  # cold start: a deploy without a variable ingestion needs fails here, loudly


def record_handler(record: SQSRecord) -> None:
    try:
        notice = parse_notice(record.body)
    except ValueError:
        logger.error('record is not an inbound notice', sqs_message_id=record.message_id)
        count(INBOUND_FAILED_METRIC)
        raise
    if notice is None:  # S3's s3:TestEvent, or an SES notice that is not about received mail
        logger.info('mail ingested', outcome='skipped', ticket_number=None, queue=None, ticket_id=None, s3_key=None)
        count(INBOUND_OUTCOME_METRICS['skipped'])
        return
    try:
        outcome = ingest(notice)
    except StorageRefusedError as exc:
        reason = f'{type(exc).__name__}: {exc}'
        logger.error('mail sent to the DLQ', reason=reason, s3_key=notice.key, sqs_message_id=record.message_id)
        send_dead_letter(inbound_settings().ingest_dlq_url, record.body, reason=reason)
        count(INBOUND_FAILED_METRIC)
        return
    except Exception as exc:
        logger.error('mail not ingested', error=type(exc).__name__, s3_key=notice.key, sqs_message_id=record.message_id)
        count(INBOUND_FAILED_METRIC)
        raise
    logger.info(
        'mail ingested',
        outcome=outcome.kind,
        ticket_number=outcome.ticket_number,
        queue=outcome.queue_name,
        ticket_id=outcome.ticket_id,
        s3_key=notice.key,
        thread_rule=outcome.thread_rule,
        reason=outcome.reason,
    )
    count(INBOUND_OUTCOME_METRICS[outcome.kind])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
