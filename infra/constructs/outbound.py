"""Outbound: the queue of reply jobs (with its dead-letter queue) that the API fills.

The sender function that consumes it is a later issue: for now nothing reads this queue, and jobs
wait in it (4 days retention) until the reply sender is deployed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class Outbound(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.dlq = sqs.Queue(
            self,
            'Dlq',
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            'Queue',
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=Duration.minutes(6),  # six times the future sender's timeout
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=5),
        )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """SendMessage on the outbound queue only, with the KMS rights an encrypted queue needs to accept it."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=['sqs:SendMessage'], resources=[self.queue.queue_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=['kms:GenerateDataKey', 'kms:Decrypt'], resources=[self.key.key_arn])
        )
