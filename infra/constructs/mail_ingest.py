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
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from inboxdesk import config, resources
from infra.constants import INLINE_BODY_LIMIT, QUEUE_CACHE_SECONDS, SERVICE_INBOUND
from infra.constructs.runtime import InboxdeskFunction, Layers
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
        layers: Layers,
        mail_domains: list[str],
        rule_set_name: str,
        activate_rule_set: bool,
        max_concurrency: int,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        source_arns = [
            f'arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:receipt-rule-set/{rule_set_name}'
            f':receipt-rule/{rule_name(domain)}'
            for domain in mail_domains
        ]
        from_our_rules = {
            'StringEquals': {'aws:SourceAccount': Aws.ACCOUNT_ID},
            'ArnLike': {'aws:SourceArn': source_arns},
        }
        ses_principal = iam.ServicePrincipal('ses.amazonaws.com')

        # The SNS notice carries what only SES knows (envelope recipients, verdicts).
        self.topic = sns.Topic(self, 'Notices', master_key=storage.key, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[ses_principal],
                actions=['sns:Publish'],
                resources=[self.topic.topic_arn],
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

        self.dlq = sqs.Queue(
            self,
            'IngestDlq',
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=storage.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            'IngestQueue',
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=storage.key,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(INBOUND_TIMEOUT.to_seconds() * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=5),
        )
        # SNS envelope kept (no raw delivery): the dev runtime posts the same SNS-wrapped notice.
        self.topic.add_subscription(subscriptions.SqsSubscription(self.queue))

        self.rule_set = ses.ReceiptRuleSet(self, 'RuleSet', receipt_rule_set_name=rule_set_name)
        self.rules: list[ses.CfnReceiptRule] = []
        for domain in mail_domains:
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
            self.rules.append(rule)
        if activate_rule_set:
            self._activate(rule_set_name)

        self.function = InboxdeskFunction(
            self,
            'Inbound',
            handler='inbound.handler.lambda_handler',
            service=SERVICE_INBOUND,
            layers=layers,
            environment={
                resources.ENV_TABLE: storage.table.table_name,
                resources.ENV_MAIL_BUCKET: storage.bucket.bucket_name,
                resources.ENV_EVENT_BUS: storage.event_bus.event_bus_name,
                resources.ENV_OWN_DOMAINS: ','.join(mail_domains),
                config.ENV_INLINE_BODY_LIMIT: str(INLINE_BODY_LIMIT),
                config.ENV_QUEUE_CACHE_SECONDS: str(QUEUE_CACHE_SECONDS),
            },
            log_retention_days=log_retention_days,
            memory_size=1024,
            timeout=INBOUND_TIMEOUT,
            description='Turns raw mail stored by SES (or a poller) into tickets',
        )
        self.function.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,  # caps table/S3 load under a mail burst without reserving concurrency
            )
        )
        role = self.function.role
        storage.grant_table_read_write(role)
        storage.grant_objects(
            role,
            read=[resources.RAW_MAIL_PREFIX],
            write=[resources.ATTACHMENT_PREFIX, resources.BODY_PREFIX],
            # A mail that turns out to be a duplicate removes the attachments and body it already wrote.
            delete=[resources.ATTACHMENT_PREFIX, resources.BODY_PREFIX],
        )
        storage.grant_put_events(role)

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
