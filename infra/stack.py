"""The Inboxdesk stack: composes the constructs and wires their monitoring, nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration, Stack
from constructs import Construct

from inboxdesk import names
from infra.constants import (
    INGEST_OLDEST_AGE_ALARM_MINUTES,
    SES_BOUNCE_REVIEW_RATE,
    SES_COMPLAINT_REVIEW_RATE,
    Settings,
)
from infra.constructs.api import Api
from infra.constructs.mail_ingest import MailIngest
from infra.constructs.monitoring import Monitoring, service_metric
from infra.constructs.outbound import Outbound
from infra.constructs.reply_sweep import ReplySweep
from infra.constructs.runtime import Layers
from infra.constructs.secrets import Secrets
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
        secrets = Secrets(self, 'Secrets', key=storage.key)
        outbound = Outbound(self, 'Outbound', storage=storage, secrets=secrets, layers=layers, settings=settings)
        ingest = MailIngest(
            self, 'MailIngest', storage=storage, outbound=outbound, secrets=secrets, layers=layers, settings=settings
        )
        api = Api(self, 'Api', storage=storage, outbound=outbound, secrets=secrets, layers=layers, settings=settings)
        sweep = ReplySweep(self, 'ReplySweep', storage=storage, outbound=outbound, layers=layers, settings=settings)
        monitoring = self._monitor(storage, settings, ingest, outbound, api, sweep)
        self._outputs(settings, storage, outbound, api, monitoring)

    def _monitor(
        self,
        storage: Storage,
        settings: Settings,
        ingest: MailIngest,
        outbound: Outbound,
        api: Api,
        sweep: ReplySweep,
    ) -> Monitoring:
        monitoring = Monitoring(self, 'Monitoring', key=storage.key, alarm_email=settings.alarm_email)
        monitoring.alarm(
            'InboundFailedAlarm',
            'Inbound mail: a mail could not be ingested (inbound logs: "mail not ingested")',
            service_metric(names.SERVICE_INBOUND, names.INBOUND_FAILED_METRIC),
        )
        monitoring.alarm(
            'ReplySendFailedAlarm',
            'Replies: a reply could not be sent (sender logs; the message shows the reason to agents)',
            service_metric(names.SERVICE_OUTBOUND, names.REPLY_SEND_FAILED_METRIC),
        )
        ingest_age_alarm = monitoring.alarm_on_queue_age(
            'IngestAgeAlarm',
            ingest.queue,
            max_age=Duration.minutes(INGEST_OLDEST_AGE_ALARM_MINUTES),
            what='Inbound mail',
        )
        reputation_alarms = [
            monitoring.alarm_on_reputation(
                'SesBounceRateAlarm', 'Reputation.BounceRate', what='bounce rate', limit=SES_BOUNCE_REVIEW_RATE
            ),
            monitoring.alarm_on_reputation(
                'SesComplaintRateAlarm',
                'Reputation.ComplaintRate',
                what='complaint rate',
                limit=SES_COMPLAINT_REVIEW_RATE,
            ),
        ]
        dead_letter_queues = {
            'Ingest': ingest.dlq,
            'Outbound': outbound.dlq,
            'Feedback': outbound.feedback.dlq,
            'Reply sweep': sweep.dlq,
        }
        for name, dlq in dead_letter_queues.items():
            monitoring.alarm_on_dead_letters(f'{name.replace(" ", "")}DlqAlarm', dlq, what=name)
        functions = {
            'Inbound': ingest.function.function,
            'API': api.function.function,
            'Reply sender': outbound.sender.function,
            'SES feedback': outbound.feedback_function.function,
            'Reply sweep': sweep.function.function,
        }
        for name, function in functions.items():
            monitoring.alarm_on_errors(f'{name.title().replace(" ", "")}ErrorsAlarm', function, what=f'{name} function')
        monitoring.add_dashboard(
            ingest_queue=ingest.queue,
            ingest_age_alarm=ingest_age_alarm,
            work_queues={'Outbound': outbound.queue, 'Feedback': outbound.feedback.queue},
            dead_letter_queues={f'{name} DLQ': dlq for name, dlq in dead_letter_queues.items()},
            reputation_alarms=reputation_alarms,
            functions=functions,
            http_api=api.http_api,
        )
        return monitoring

    def _outputs(
        self, settings: Settings, storage: Storage, outbound: Outbound, api: Api, monitoring: Monitoring
    ) -> None:
        CfnOutput(self, 'ApiUrl', value=api.url)
        CfnOutput(
            self,
            'DashboardUrl',
            value=f'https://console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}'
            f'#dashboards:name={monitoring.dashboard.dashboard_name}',
        )
        CfnOutput(self, 'UserPoolId', value=api.user_pool.user_pool_id)
        CfnOutput(self, 'UserPoolClientId', value=api.client.user_pool_client_id)
        CfnOutput(self, 'MailBucketName', value=storage.bucket.bucket_name)
        CfnOutput(self, 'TableName', value=storage.table.table_name)
        CfnOutput(self, 'OutboundQueueUrl', value=outbound.queue.queue_url)
        CfnOutput(self, 'SesConfigurationSet', value=outbound.configuration_set.configuration_set_name)
        CfnOutput(
            self,
            'ReceiptRuleSet',
            value=settings.rule_set_name,
            description='Activated by the stack'
            if settings.activate_rule_set
            else f'Activate once: aws ses set-active-receipt-rule-set --rule-set-name {settings.rule_set_name}',
        )
