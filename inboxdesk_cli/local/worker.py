"""Run a Lambda handler whenever its SQS queue has messages, as Lambda's event source mapping would.

moto runs no Lambdas, so the dev runtime long-polls the queue itself, builds the same SQS event
Lambda builds (batch of up to 10 records), calls the real handler in-process and deletes the records
that are not reported in `batchItemFailures`. Failed records stay on the queue: they come back after
the visibility timeout and reach the dead-letter queue after the redrive policy's `maxReceiveCount`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inboxdesk_cli.aws_events import LambdaContext, build_sqs_event
from inboxdesk_cli.local.background import BackgroundLoop

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

Handler = Callable[[dict[str, Any], Any], Any]

logger = logging.getLogger('inboxdesk_dev')

MAX_BATCH = 10  # Lambda's default SQS batch size, and SQS's own maximum per receive


def failed_ids(response: Any) -> set[str]:
    """The record ids a handler reported as failed (`{"batchItemFailures": [{"itemIdentifier": ...}]}`)."""
    if not isinstance(response, Mapping):
        return set()
    failures = response.get('batchItemFailures') or []
    return {str(item['itemIdentifier']) for item in failures if isinstance(item, Mapping)}


@dataclass
class QueueWorker(BackgroundLoop):
    """Long-poll one queue and feed its messages to one handler, in a background thread."""

    sqs: SQSClient
    queue_url: str
    handler: Handler
    function_name: str
    wait_seconds: int = 1
    batch_size: int = MAX_BATCH
    _queue_arn: str = field(default='', repr=False)
    _max_receives: int | None = field(default=None, repr=False)

    def start(self) -> None:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=['All'])['Attributes']
        self._queue_arn = attributes['QueueArn']
        if redrive := attributes.get('RedrivePolicy'):
            self._max_receives = int(json.loads(redrive)['maxReceiveCount'])
        super().start()

    @property
    def _thread_name(self) -> str:
        return f'worker-{self.function_name}'

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep the worker alive: the embedded AWS may be briefly unreachable
                logger.exception('%s: polling %s failed', self.function_name, self.queue_url.rsplit('/', 1)[-1])
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch (waiting up to `wait_seconds`), run the handler on it; returns its size."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=['All'],
            MessageAttributeNames=['All'],
        )
        messages = received.get('Messages', [])
        if messages:
            self.run_batch(messages)
        return len(messages)

    def run_batch(self, messages: list[MessageTypeDef]) -> None:
        region = self.sqs.meta.region_name
        account = self._queue_arn.split(':')[4] if self._queue_arn.count(':') >= 5 else '123456789012'
        event = build_sqs_event(messages, queue_arn=self._queue_arn, region=region)
        context = LambdaContext(function_name=self.function_name, region=region, account=account)
        try:
            failed = failed_ids(self.handler(event, context))
        except Exception as error:  # Lambda retries the whole batch when the function raises
            # (Powertools raises when every record of a batch failed; the handler logged the details)
            logger.warning(
                '%s: the handler raised %s on a batch of %d', self.function_name, type(error).__name__, len(messages)
            )
            failed = {message['MessageId'] for message in messages}
        done = [m for m in messages if m['MessageId'] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{'Id': str(i), 'ReceiptHandle': m['ReceiptHandle']} for i, m in enumerate(done)],
            )
        for message in messages:
            if message['MessageId'] in failed:
                self._report_failure(message)

    def _report_failure(self, message: MessageTypeDef) -> None:
        attempt = int(message.get('Attributes', {}).get('ApproximateReceiveCount', '1'))
        if self._max_receives is not None and attempt >= self._max_receives:
            logger.warning(
                '%s: message %s failed on its last attempt (%d of %d): it goes to the dead-letter queue',
                self.function_name,
                message['MessageId'],
                attempt,
                self._max_receives,
            )
        else:
            limit = f' of {self._max_receives}' if self._max_receives else ''
            logger.warning(
                '%s: message %s failed (attempt %d%s): retried after the visibility timeout',
                self.function_name,
                message['MessageId'],
                attempt,
                limit,
            )
