"""Outbound: reply jobs (filled by the API) -> SQS -> reply sender -> SES v2 through a configuration set, or a
channel's own SMTP server; SES events (configuration set -> SNS -> SQS) -> feedback function -> the message's
delivery status.

The sender reports failed records (partial batch response): a transient failure is retried after the
queue's visibility timeout (the handler may lengthen it per attempt, for backoff), and a job received
`MAX_RECEIVES` times goes to the dead-letter queue, which raises an alarm.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from inboxdesk import names, resources
from infra.constants import MESSAGE_WRITER_ENVIRONMENT, Settings
from infra.constructs.queues import MAX_RECEIVES, QueueWithDlq, queue_with_dlq
from infra.constructs.runtime import InboxdeskFunction, Layers
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage

SENDER_TIMEOUT = Duration.seconds(90)  # an SMTP session with a 40 MB reply, or SES with its attachments from S3
FEEDBACK_TIMEOUT = Duration.seconds(30)
SES_EVENTS = (
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.DELIVERY_DELAY,
    ses.EmailSendingEvent.REJECT,
)


class Outbound(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        secrets: Secrets,
        layers: Layers,
        settings: Settings,
    ) -> None:
        super().__init__(scope, construct_id)
        self._storage = storage
        replies = queue_with_dlq(self, '', key=storage.key, consumer_timeout=SENDER_TIMEOUT)
        self.queue, self.dlq = replies.queue, replies.dlq
        self.configuration_set = self._build_configuration_set()
        self.feedback = self._build_feedback_queue()
        self.sender = self._build_sender(secrets, layers, settings)
        self.feedback_function = self._build_feedback_function(layers, settings)

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """SendMessage on the reply queue only, with the KMS rights an encrypted queue needs to accept it."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=['sqs:SendMessage'], resources=[self.queue.queue_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=['kms:GenerateDataKey', 'kms:Decrypt'], resources=[self._storage.key.key_arn])
        )

    def _build_configuration_set(self) -> ses.ConfigurationSet:
        """Every reply SES sends goes through this set, which publishes its delivery events to a topic."""
        configuration_set = ses.ConfigurationSet(
            self,
            'ConfigurationSet',
            configuration_set_name=f'{Stack.of(self).stack_name}-replies',
            reputation_metrics=True,
        )
        self.configuration_set_arn = (
            f'arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:configuration-set/'
            f'{configuration_set.configuration_set_name}'
        )
        self.events_topic = sns.Topic(self, 'SesEvents', master_key=self._storage.key, enforce_ssl=True)
        ses.ConfigurationSetEventDestination(
            self,
            'SesEventsToTopic',
            configuration_set=configuration_set,
            destination=ses.EventDestination.sns_topic(self.events_topic),
            events=list(SES_EVENTS),
        )
        # The event destination lets SES publish to the topic; SES also encrypts what it publishes with the key.
        self._storage.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal('ses.amazonaws.com')],
                actions=['kms:GenerateDataKey', 'kms:Decrypt'],
                resources=['*'],  # in a key policy, '*' is this key
                conditions={
                    'StringEquals': {'aws:SourceAccount': Aws.ACCOUNT_ID},
                    'ArnLike': {'aws:SourceArn': self.configuration_set_arn},
                },
            )
        )
        return configuration_set

    def _build_feedback_queue(self) -> QueueWithDlq:
        feedback = queue_with_dlq(self, 'Feedback', key=self._storage.key, consumer_timeout=FEEDBACK_TIMEOUT)
        # SNS envelope kept (no raw delivery), as on the ingest queue: the dev runtime posts the same shape.
        self.events_topic.add_subscription(subscriptions.SqsSubscription(feedback.queue))
        return feedback

    def _build_sender(self, secrets: Secrets, layers: Layers, settings: Settings) -> InboxdeskFunction:
        sender = InboxdeskFunction(
            self,
            'Sender',
            handler=names.HANDLER_OUTBOUND,
            service=names.SERVICE_OUTBOUND,
            layers=layers,
            environment={
                **self._storage.environment,
                **MESSAGE_WRITER_ENVIRONMENT,
                resources.ENV_OWN_DOMAINS: ','.join(settings.mail_domains),
                resources.ENV_SES_CONFIGURATION_SET: self.configuration_set.configuration_set_name,
                resources.ENV_REPLY_TOKEN_SECRET: secrets.reply_token.secret_arn,
                resources.ENV_CHANNEL_SECRET_PREFIX: secrets.channel_prefix,
                resources.ENV_SMTP_HOST_ALLOW_LIST: ','.join(settings.smtp_host_allow_list),
                resources.ENV_OUTBOUND_MAX_RECEIVES: str(MAX_RECEIVES),  # its last try records `failed`
            },
            log_retention_days=settings.log_retention_days,
            memory_size=1024,
            timeout=SENDER_TIMEOUT,
            description='Sends queued replies through their channel (SES or SMTP)',
        )
        sender.consume(self.queue)
        role = sender.role
        self._storage.grant_table_read_write(role)
        # The reply's large body and the attachments it carries (agents' uploads, or forwarded mail's).
        self._storage.grant_objects(role, read=[resources.ATTACHMENT_PREFIX, resources.BODY_PREFIX], write=[])
        identities = [
            f'arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/{domain}'
            for domain in settings.mail_domains
        ]
        # SES v2 SendEmail (raw MIME) is authorised on both the From identity and the configuration set.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=['ses:SendEmail', 'ses:SendRawEmail'],
                resources=[*identities, self.configuration_set_arn],
            )
        )
        secrets.grant_read(role, secrets.reply_token)
        secrets.grant_read_channel_secrets(role)
        return sender

    def _build_feedback_function(self, layers: Layers, settings: Settings) -> InboxdeskFunction:
        feedback = InboxdeskFunction(
            self,
            'FeedbackHandler',
            handler=names.HANDLER_FEEDBACK,
            service=names.SERVICE_FEEDBACK,
            layers=layers,
            environment=self._storage.environment,
            log_retention_days=settings.log_retention_days,
            memory_size=512,
            timeout=FEEDBACK_TIMEOUT,
            description='Records SES bounces, complaints and deliveries on the replies they concern',
        )
        feedback.consume(self.feedback.queue)
        self._storage.grant_table_read_write(feedback.role)
        return feedback
