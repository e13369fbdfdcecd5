"""SQS queues encrypted with the stack's key: a work queue with its dead-letter queue, or a dead-letter queue alone."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DEAD_LETTER_RETENTION = Duration.days(14)  # the longest SQS keeps a message: time to find and replay it
WORK_RETENTION = Duration.days(4)
MAX_RECEIVES = 5  # a message failing this often goes to the dead-letter queue
# Lambda's advice for SQS event sources: a visibility timeout of six times the consumer's timeout.
VISIBILITY_FACTOR = 6


@dataclass(frozen=True)
class QueueWithDlq:
    queue: sqs.Queue
    dlq: sqs.Queue


def dead_letter_queue(scope: Construct, construct_id: str, *, key: kms.IKey) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DEAD_LETTER_RETENTION,
    )


def queue_with_dlq(
    scope: Construct,
    name: str,
    *,
    key: kms.IKey,
    consumer_timeout: Duration,
    max_receives: int = MAX_RECEIVES,
) -> QueueWithDlq:
    """`<name>Queue`, read by a function that runs up to `consumer_timeout`, which moves a message received
    `max_receives` times to `<name>Dlq`."""
    dlq = dead_letter_queue(scope, f'{name}Dlq', key=key)
    queue = sqs.Queue(
        scope,
        f'{name}Queue',
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=WORK_RETENTION,
        visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_FACTOR),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receives),
    )
    return QueueWithDlq(queue=queue, dlq=dlq)


def grant_send(grantee: iam.IGrantable, queue: sqs.IQueue, key: kms.IKey) -> None:
    """SendMessage on `queue` only, with the KMS rights a queue encrypted with `key` needs to accept it (named
    actions: the construct's own grant adds `kms:GenerateDataKey*`)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=['sqs:SendMessage'], resources=[queue.queue_arn])
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=['kms:GenerateDataKey', 'kms:Decrypt'], resources=[key.key_arn])
    )
