"""Monitoring: the alarm topic (email subscription from context), the alarms that feed it, and the
CloudWatch dashboard operators watch (mail in, queues, dead letters, functions, API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import (
    EVENT_PUBLISH_FAILED_METRIC,
    INBOUND_FAILED_METRIC,
    INBOUND_OUTCOME_METRICS,
    METRICS_NAMESPACE,
    SERVICE_INBOUND,
)

FIVE_MINUTES = Duration.minutes(5)
WIDTH = 24  # a dashboard row


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.Key, alarm_email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, 'Alarms', master_key=key, enforce_ssl=True)
        # CloudWatch publishes to the KMS-encrypted topic, so it must be allowed to use the key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal('cloudwatch.amazonaws.com')],
                actions=['kms:GenerateDataKey', 'kms:Decrypt'],
                resources=['*'],  # in a key policy, '*' is this key
                conditions={'StringEquals': {'aws:SourceAccount': Aws.ACCOUNT_ID}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def alarm_on_dead_letters(self, construct_id: str, dlq: sqs.IQueue, *, what: str) -> cloudwatch.Alarm:
        """Alarm as soon as one message is in the dead-letter queue: something could not be processed."""
        return self._add(
            cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=f'{what}: messages in the dead-letter queue need attention (replay them)',
                metric=dlq.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
                ),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def alarm_on_errors(self, construct_id: str, function: lambda_.IFunction, *, what: str) -> cloudwatch.Alarm:
        """Alarm when an invocation of the function fails within five minutes."""
        return self._add(
            cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=f'{what}: function errors',
                metric=function.metric_errors(period=Duration.minutes(5), statistic=cloudwatch.Stats.SUM),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def alarm_on_inbound_failures(self, construct_id: str) -> cloudwatch.Alarm:
        """Alarm when the inbound function could not ingest a mail (it is retried, then dead-lettered)."""
        return self._add(
            cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description='Inbound mail: a mail could not be ingested (inbound logs: "mail not ingested")',
                metric=inbound_metric(INBOUND_FAILED_METRIC),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def alarm_on_queue_age(
        self, construct_id: str, queue: sqs.IQueue, *, max_age: Duration, what: str
    ) -> cloudwatch.Alarm:
        """Alarm when the oldest message of a work queue has waited longer than `max_age`: its consumer is
        failing, throttled or gone."""
        return self._add(
            cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=f'{what}: the oldest message has waited over {max_age.to_human_string()}',
                metric=queue.metric_approximate_age_of_oldest_message(
                    period=FIVE_MINUTES, statistic=cloudwatch.Stats.MAXIMUM
                ),
                threshold=max_age.to_seconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def add_dashboard(
        self,
        *,
        ingest_queue: sqs.IQueue,
        ingest_age_alarm: cloudwatch.Alarm,
        outbound_queue: sqs.IQueue,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        functions: Mapping[str, lambda_.IFunction],
        http_api: apigwv2.IHttpApi,
    ) -> cloudwatch.Dashboard:
        """One dashboard, named after the stack, top to bottom: alarms, mail in, queues, functions, API."""
        self.dashboard = cloudwatch.Dashboard(
            self,
            'Dashboard',
            dashboard_name=Stack.of(self).stack_name,
            default_interval=Duration.hours(6),
        )
        inbound_outcomes = [
            inbound_metric(name, label=name.removeprefix('InboundMail')) for name in INBOUND_OUTCOME_METRICS
        ]
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown='# Inboxdesk\nMail in (SES -> ingest queue -> inbound function), replies out (API -> '
                'outbound queue), the agents API. A message in a dead-letter queue needs a replay.',
                width=WIDTH,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title='Alarms', alarms=self.alarms, width=WIDTH, height=3)
        )
        self.dashboard.add_widgets(
            _graph('Inbound mail by outcome (per 5 minutes)', inbound_outcomes, width=12, stacked=True),
            _graph(
                'Inbound failures and unpublished events',
                [
                    inbound_metric(INBOUND_FAILED_METRIC, label='Failed (retried, then DLQ)'),
                    inbound_metric(EVENT_PUBLISH_FAILED_METRIC, label='Events not published'),
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                'Ingest queue depth',
                [
                    ingest_queue.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM, label='Waiting'
                    ),
                    ingest_queue.metric_approximate_number_of_messages_not_visible(
                        period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM, label='In flight'
                    ),
                ],
                width=8,
            ),
            _graph(
                'Ingest queue: oldest message age (s)',
                [ingest_age_alarm.metric],
                width=8,
                annotations=[ingest_age_alarm.to_annotation()],
            ),
            _graph(
                'Dead-letter queues and outbound queue',
                [
                    queue.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM, label=label
                    )
                    for label, queue in {**dead_letter_queues, 'Outbound queue (waiting)': outbound_queue}.items()
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                'Function errors',
                [
                    f.metric_errors(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM, label=n)
                    for n, f in functions.items()
                ],
                width=8,
            ),
            _graph(
                'Function duration p99 (ms)',
                [f.metric_duration(period=FIVE_MINUTES, statistic='p99', label=n) for n, f in functions.items()],
                width=8,
            ),
            _graph(
                'Function throttles',
                [
                    f.metric_throttles(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM, label=n)
                    for n, f in functions.items()
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                'API requests and errors',
                [
                    http_api.metric_count(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM, label='Requests'),
                    http_api.metric_client_error(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM, label='4xx'),
                    http_api.metric_server_error(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM, label='5xx'),
                ],
                width=12,
            ),
            _graph(
                'API latency (ms)',
                [
                    http_api.metric_latency(period=FIVE_MINUTES, statistic='p50', label='p50'),
                    http_api.metric_latency(period=FIVE_MINUTES, statistic='p99', label='p99'),
                    http_api.metric_integration_latency(period=FIVE_MINUTES, statistic='p99', label='Lambda p99'),
                ],
                width=12,
            ),
        )
        return self.dashboard

    def _add(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm


def inbound_metric(name: str, *, label: str | None = None) -> cloudwatch.Metric:
    """A count the inbound handler emits (Powertools EMF: namespace Inboxdesk, dimension `service`), per 5 min."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={'service': SERVICE_INBOUND},
        statistic=cloudwatch.Stats.SUM,
        period=FIVE_MINUTES,
        label=label,
    )


def _graph(
    title: str,
    metrics: Sequence[cloudwatch.IMetric],
    *,
    width: int,
    stacked: bool = False,
    annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        left_annotations=list(annotations) or None,
        width=width,
        height=6,
        stacked=stacked,
    )
