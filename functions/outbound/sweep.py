"""The reply sweep (EventBridge Scheduler, every minute): puts back on the outbound queue the replies whose
job the API could not queue (they wait `queued` in the outbox)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from inboxdesk import names
from inboxdesk.config import api_settings
from inboxdesk.logic.replies import requeue_pending_replies
from inboxdesk.observability import service_name

logger = Logger(service=service_name(names.SERVICE_REPLY_SWEEP))  # POWERTOOLS_SERVICE_NAME wins on AWS
api_settings()  # the sweep puts jobs on the outbound queue: a deploy without it fails here, loudly


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    count = requeue_pending_replies()
    logger.info('replies requeued', count=count)
    return {'requeued': count}
