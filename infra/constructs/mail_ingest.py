"""Mail ingest: SES receipt rules -> raw/ in the mail bucket + SNS notice -> SQS ingest queue -> inbound function.

CloudFormation cannot make a receipt rule set the active one (an account has one per region). With the
context flag `inboxdesk:activateReceiptRuleSet` set to true, a custom resource calls
`ses:SetActiveReceiptRuleSet` (and deactivates it again when the stack is deleted); by default this is
the documented manual step `aws ses set-active-receipt-rule-set --rule-set-name <name>`, so that
deploying never displaces a rule set the account already uses.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import custom_resources as cr
from constructs import Construct

from inboxdesk import names, resources
from infra.constants import MESSAGE_WRITER_ENVIRONMENT, Settings
from infra.constructs.outbound import Outbound
from infra.constructs.queues import grant_send, queue_with_dlq
from infra.constructs.runtime import InboxdeskFunction, Layers
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage
from infra.nag import acknowledge

INBOUND_TIMEOUT = Duration.seconds(90)  # a 40 MB mail: fetch, parse, store attachments


def rule_name(domain: str) -> str:
    """The receipt rule of one creation-address domain (SES: letters, digits, '.', '-', '_'; at most 64)."""
    return f'inboxdesk-{domain}'[:64]


class MailIngest(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        outbound: Outbound,
        secrets: Secrets,
        layers: Layers,
        settings: Settings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._build_notices(storage, settings)
        ingest = queue_with_dlq(self, 'Ingest', key=storage.key, consumer_timeout=INBOUND_TIMEOUT)
        self.queue, self.dlq = ingest.queue, ingest.dlq
        # SNS envelope kept (no raw delivery): the dev runtime posts the same SNS-wrapped notice.
        self.topic.add_subscription(subscriptions.SqsSubscription(self.queue))
        self.rule_set = ses.ReceiptRuleSet(self, 'RuleSet', receipt_rule_set_name=settings.rule_set_name)
        self.rules = [self._build_receipt_rule(storage, domain) for domain in settings.mail_domains]
        if settings.activate_rule_set:
            self._activate(settings.rule_set_name)
        self.function = self._build_function(storage, outbound, secrets, layers, settings)

    def _build_notices(self, storage: Storage, settings: Settings) -> sns.Topic:
        """The topic of SES's notices, and what SES may do for our receipt rules (and nothing else)."""
        source_arns = [
            f'arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:receipt-rule-set/{settings.rule_set_name}'
            f':receipt-rule/{rule_name(domain)}'
            for domain in settings.mail_domains
        ]
        from_our_rules = {
            'StringEquals': {'aws:SourceAccount': Aws.ACCOUNT_ID},
            'ArnLike': {'aws:SourceArn': source_arns},
        }
        ses_principal = iam.ServicePrincipal('ses.amazonaws.com')

        # The SNS notice carries what only SES knows (envelope recipients, verdicts).
        topic = sns.Topic(self, 'Notices', master_key=storage.key, enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[ses_principal],
                actions=['sns:Publish'],
                resources=[topic.topic_arn],
                conditions=from_our_rules,
            )
        )
        # SES encrypts the notice with the key (SNS) and writes raw mail into an SSE-KMS bucket.
        storage.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[ses_principal],
                actions=['kms:GenerateDataKey', 'kms:Decrypt'],
                resources=['*'],  # in a key policy, '*' is this key
                conditions=from_our_rules,
            )
        )
        storage.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[ses_principal],
                actions=['s3:PutObject'],
                resources=[storage.bucket.arn_for_objects(f'{resources.RAW_MAIL_PREFIX}*')],
                conditions=from_our_rules,
            )
        )
        return topic

    def _build_receipt_rule(self, storage: Storage, domain: str) -> ses.CfnReceiptRule:
        rule = ses.CfnReceiptRule(
            self,
            f'Rule-{domain}',
            rule_set_name=self.rule_set.receipt_rule_set_name,
            rule=ses.CfnReceiptRule.RuleProperty(
                name=rule_name(domain),
                enabled=True,
                recipients=[domain],
                scan_enabled=True,
                tls_policy='Require',
                actions=[
                    ses.CfnReceiptRule.ActionProperty(
                        s3_action=ses.CfnReceiptRule.S3ActionProperty(
                            bucket_name=storage.bucket.bucket_name,
                            object_key_prefix=resources.RAW_MAIL_PREFIX,
                            topic_arn=self.topic.topic_arn,
                        )
                    )
                ],
            ),
        )
        # SES writes a test object and checks the topic when the rule is created: policies first.
        for policy in (storage.bucket.policy, self.topic.node.try_find_child('Policy')):
            if policy is not None:
                rule.node.add_dependency(policy)
        rule.node.add_dependency(storage.key)
        return rule

    def _build_function(
        self, storage: Storage, outbound: Outbound, secrets: Secrets, layers: Layers, settings: Settings
    ) -> InboxdeskFunction:
        function = InboxdeskFunction(
            self,
            'Inbound',
            handler=names.HANDLER_INBOUND,
            service=names.SERVICE_INBOUND,
            layers=layers,
            environment={
                **storage.environment,
                **MESSAGE_WRITER_ENVIRONMENT,
                resources.ENV_EVENT_BUS: storage.event_bus.event_bus_name,
                resources.ENV_OWN_DOMAINS: ','.join(settings.mail_domains),
                # Answers thread by their reply token; new tickets are acknowledged through the reply queue.
                resources.ENV_REPLY_TOKEN_SECRET: secrets.reply_token.secret_arn,
                resources.ENV_OUTBOUND_QUEUE_URL: outbound.queue.queue_url,
                resources.ENV_INGEST_DLQ_URL: self.dlq.queue_url,
            },
            log_retention_days=settings.log_retention_days,
            memory_size=1024,
            timeout=INBOUND_TIMEOUT,
            description='Turns raw mail stored by SES (or a poller) into tickets',
        )
        # max_concurrency caps table/S3 load under a mail burst without reserving concurrency.
        function.consume(self.queue, max_concurrency=settings.inbound_max_concurrency)
        role = function.role
        storage.grant_table_read_write(role)
        storage.grant_objects(
            role,
            read=[resources.RAW_MAIL_PREFIX],
            write=[resources.ATTACHMENT_PREFIX, resources.BODY_PREFIX],
            # A mail that turns out to be a duplicate removes the attachments and body it already wrote.
            delete=[resources.ATTACHMENT_PREFIX, resources.BODY_PREFIX],
        )
        storage.grant_put_events(role)
        secrets.grant_read(role, secrets.reply_token)
        outbound.grant_send(role)
        grant_send(role, self.dlq, storage.key)  # a mail the table refuses goes to the DLQ at once, with its reason
        return function

    def _activate(self, rule_set_name: str) -> None:
        call = cr.AwsSdkCall(
            service='SES',
            action='setActiveReceiptRuleSet',
            parameters={'RuleSetName': rule_set_name},
            physical_resource_id=cr.PhysicalResourceId.of(f'active-{rule_set_name}'),
        )
        activation = cr.AwsCustomResource(
            self,
            'ActivateRuleSet',
            on_create=call,
            on_update=call,
            # No RuleSetName: no rule set is active any more once the stack is gone.
            on_delete=cr.AwsSdkCall(
                service='SES',
                action='setActiveReceiptRuleSet',
                parameters={},
                physical_resource_id=cr.PhysicalResourceId.of(f'active-{rule_set_name}'),
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=['ses:SetActiveReceiptRuleSet'], resources=['*'])]
            ),
            install_latest_aws_sdk=False,
        )
        for rule in self.rules:
            activation.node.add_dependency(rule)
        acknowledge(
            activation,
            'AwsSolutions-IAM5[Resource::*]',
            'ses:SetActiveReceiptRuleSet supports no resource-level permissions.',
        )
        provider = Stack.of(self).node.try_find_child('AWS679f53fac002430cb0da5b7982bd2287')
        if provider is not None:
            acknowledge(
                provider,
                'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
                'The CDK-provided custom resource handler runs once per deploy and only writes its own logs.',
            )
