"""The Inboxdesk stack: composes the constructs, nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration, Stack
from constructs import Construct

from infra.constants import INGEST_OLDEST_AGE_ALARM_MINUTES, Settings
from infra.constructs.api import Api
from infra.constructs.mail_ingest import MailIngest
from infra.constructs.monitoring import Monitoring
from infra.constructs.outbound import Outbound
from infra.constructs.reply_sweep import ReplySweep
from infra.constructs.runtime import Layers
from infra.constructs.storage import Storage


class InboxdeskStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = Settings.from_context(self)

        storage = Storage(
            self,
            'Storage',
            raw_mail_retention_days=settings.raw_mail_retention_days,
            cors_allow_origins=settings.cors_allow_origins,
        )
        layers = Layers(self, 'Layers')
        outbound = Outbound(self, 'Outbound', key=storage.key)
        ingest = MailIngest(
            self,
            'MailIngest',
            storage=storage,
            layers=layers,
            mail_domains=settings.mail_domains,
            rule_set_name=settings.rule_set_name,
            activate_rule_set=settings.activate_rule_set,
            max_concurrency=settings.inbound_max_concurrency,
            log_retention_days=settings.log_retention_days,
        )
        api = Api(
            self,
            'Api',
            storage=storage,
            outbound=outbound,
            layers=layers,
            mail_domains=settings.mail_domains,
            cors_allow_origins=settings.cors_allow_origins,
            throttle_rate_limit=settings.api_throttle_rate_limit,
            throttle_burst_limit=settings.api_throttle_burst_limit,
            reserved_concurrency=settings.api_reserved_concurrency,
            log_retention_days=settings.log_retention_days,
        )
        sweep = ReplySweep(
            self,
            'ReplySweep',
            storage=storage,
            outbound=outbound,
            layers=layers,
            log_retention_days=settings.log_retention_days,
        )

        monitoring = Monitoring(self, 'Monitoring', key=storage.key, alarm_email=settings.alarm_email)
        monitoring.alarm_on_inbound_failures('InboundFailedAlarm')
        ingest_age_alarm = monitoring.alarm_on_queue_age(
            'IngestAgeAlarm',
            ingest.queue,
            max_age=Duration.minutes(INGEST_OLDEST_AGE_ALARM_MINUTES),
            what='Inbound mail',
        )
        monitoring.alarm_on_dead_letters('IngestDlqAlarm', ingest.dlq, what='Inbound mail')
        monitoring.alarm_on_dead_letters('OutboundDlqAlarm', outbound.dlq, what='Outbound replies')
        monitoring.alarm_on_dead_letters('ReplySweepDlqAlarm', sweep.dlq, what='Reply sweep schedule')
        functions = {
            'Inbound': ingest.function.function,
            'API': api.function.function,
            'Reply sweep': sweep.function.function,
        }
        for name, function in functions.items():
            monitoring.alarm_on_errors(f'{name.title().replace(" ", "")}ErrorsAlarm', function, what=f'{name} function')
        dashboard = monitoring.add_dashboard(
            ingest_queue=ingest.queue,
            ingest_age_alarm=ingest_age_alarm,
            outbound_queue=outbound.queue,
            dead_letter_queues={
                'Ingest DLQ': ingest.dlq,
                'Outbound DLQ': outbound.dlq,
                'Reply sweep DLQ': sweep.dlq,
            },
            functions=functions,
            http_api=api.http_api,
        )

        CfnOutput(self, 'ApiUrl', value=api.url)
        CfnOutput(
            self,
            'DashboardUrl',
            value=f'https://console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}'
            f'#dashboards:name={dashboard.dashboard_name}',
        )
        CfnOutput(self, 'UserPoolId', value=api.user_pool.user_pool_id)
        CfnOutput(self, 'UserPoolClientId', value=api.client.user_pool_client_id)
        CfnOutput(self, 'MailBucketName', value=storage.bucket.bucket_name)
        CfnOutput(self, 'TableName', value=storage.table.table_name)
        CfnOutput(self, 'OutboundQueueUrl', value=outbound.queue.queue_url)
        CfnOutput(
            self,
            'ReceiptRuleSet',
            value=settings.rule_set_name,
            description='Activated by the stack'
            if settings.activate_rule_set
            else f'Activate once: aws ses set-active-receipt-rule-set --rule-set-name {settings.rule_set_name}',
        )
