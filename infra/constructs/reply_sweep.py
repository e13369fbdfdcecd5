"""The reply sweep: every minute, EventBridge Scheduler invokes `outbound.sweep.lambda_handler`, which puts
back on the outbound queue the replies whose job the API could not queue (`POST /tickets/{id}/replies`
keeps them `queued` in an outbox). `inboxdesk dev` fires the same handler on the same interval.

The schedule retries a failed invocation and then moves the event to its own dead-letter queue (alarmed
by the monitoring construct). Overlapping sweeps are harmless: the sender is idempotent per reply.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from inboxdesk import names, resources
from infra.constants import REQUEUE_EVERY_MINUTES, Settings
from infra.constructs.outbound import Outbound
from infra.constructs.queues import dead_letter_queue
from infra.constructs.runtime import InboxdeskFunction, Layers
from infra.constructs.storage import Storage
from infra.nag import acknowledge

SWEEP_TIMEOUT = Duration.seconds(60)
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.minutes(5)  # an older sweep is pointless: a newer one has run since


class ReplySweep(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        outbound: Outbound,
        layers: Layers,
        settings: Settings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = self._build_function(storage, outbound, layers, settings)
        self.dlq = dead_letter_queue(self, 'Dlq', key=storage.key)
        acknowledge(
            self.dlq,
            'AwsSolutions-SQS3',
            "This is the dead-letter queue of the sweep's EventBridge schedule (a schedule, not a redrive policy).",
        )
        self.schedule = self._build_schedule(storage)

    def _build_function(
        self, storage: Storage, outbound: Outbound, layers: Layers, settings: Settings
    ) -> InboxdeskFunction:
        function = InboxdeskFunction(
            self,
            'Requeue',
            handler=names.HANDLER_REPLY_SWEEP,
            service=names.SERVICE_REPLY_SWEEP,
            layers=layers,
            environment={
                **storage.environment,  # large reply bodies are read from bodies/
                resources.ENV_OUTBOUND_QUEUE_URL: outbound.queue.queue_url,
            },
            log_retention_days=settings.log_retention_days,
            memory_size=512,
            timeout=SWEEP_TIMEOUT,
            description='Requeues replies whose outbound job could not be queued (every minute)',
        )
        role = function.role
        # Outbox Query and DeleteItem, the ticket's messages (Query) to check each reply is still queued.
        storage.grant_table_read_write(role)
        storage.grant_objects(role, read=[resources.BODY_PREFIX], write=[])
        outbound.grant_send(role)
        return function

    def _build_schedule(self, storage: Storage) -> scheduler.CfnSchedule:
        # Scheduler invokes the function and writes undeliverable events to the DLQ with this role.
        self.scheduler_role = iam.Role(
            self,
            'SchedulerRole',
            assumed_by=iam.ServicePrincipal(
                'scheduler.amazonaws.com', conditions={'StringEquals': {'aws:SourceAccount': Aws.ACCOUNT_ID}}
            ),
            description='EventBridge Scheduler: invoke the reply sweep, dead-letter to its queue',
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(actions=['lambda:InvokeFunction'], resources=[self.function.function.function_arn])
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(actions=['sqs:SendMessage'], resources=[self.dlq.queue_arn])
        )
        storage.grant_key_use(self.scheduler_role)  # the DLQ is encrypted with the stack's key

        schedule = scheduler.CfnSchedule(
            self,
            'Schedule',
            description='Inboxdesk: requeue replies whose outbound job could not be queued',
            schedule_expression=f'rate({REQUEUE_EVERY_MINUTES} minute{"s" if REQUEUE_EVERY_MINUTES > 1 else ""})',
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode='OFF'),
            state='ENABLED',
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.function.function.function_arn,
                role_arn=self.scheduler_role.role_arn,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()),
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.dlq.queue_arn),
            ),
        )
        # The role's policy must exist before Scheduler validates the target.
        policy = self.scheduler_role.node.try_find_child('DefaultPolicy')
        if policy is not None:
            schedule.node.add_dependency(policy)
        return schedule
