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

from inboxdesk import names

FIVE_MINUTES = Duration.minutes(5)
ONE_HOUR = Duration.hours(1)
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
        return self.alarm(
            construct_id,
            f'{what}: messages in the dead-letter queue need attention (replay them)',
            dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
        )

    def alarm_on_errors(self, construct_id: str, function: lambda_.IFunction, *, what: str) -> cloudwatch.Alarm:
        """Alarm when an invocation of the function fails within five minutes."""
        return self.alarm(
            construct_id,
            f'{what}: function errors',
            function.metric_errors(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM),
        )

    def alarm_on_queue_age(
        self, construct_id: str, queue: sqs.IQueue, *, max_age: Duration, what: str
    ) -> cloudwatch.Alarm:
        """Alarm when the oldest message of a work queue has waited longer than `max_age`: its consumer is
        failing, throttled or gone."""
        return self.alarm(
            construct_id,
            f'{what}: the oldest message has waited over {max_age.to_human_string()}',
            queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic=cloudwatch.Stats.MAXIMUM),
            threshold=max_age.to_seconds(),
        )

    def alarm_on_reputation(self, construct_id: str, metric_name: str, *, what: str, limit: float) -> cloudwatch.Alarm:
        """Alarm when an account-wide SES reputation rate (a fraction: 0.05 is 5 %), as SES last computed it,
        reaches the level at which SES puts the account under review."""
        return self.alarm(
            construct_id,
            f'SES {what}: at {limit:.1%} SES reviews the account and may pause its sending',
            cloudwatch.Metric(
                namespace='AWS/SES', metric_name=metric_name, statistic=cloudwatch.Stats.MAXIMUM, period=ONE_HOUR
            ),
            threshold=limit,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )

    def alarm(
        self,
        construct_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float = 0,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> cloudwatch.Alarm:
        """An alarm on one period of `metric` (above 0 by default) that notifies the alarm topic and shows on
        the dashboard; no data (nothing happened) is not a breach."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def add_dashboard(
        self,
        *,
        ingest_queue: sqs.IQueue,
        ingest_age_alarm: cloudwatch.Alarm,
        work_queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        reputation_alarms: Sequence[cloudwatch.Alarm],
        functions: Mapping[str, lambda_.IFunction],
        http_api: apigwv2.IHttpApi,
    ) -> cloudwatch.Dashboard:
        """One dashboard, named after the stack, top to bottom: alarms, mail in, replies out, queues,
        functions, API."""
        self.dashboard = cloudwatch.Dashboard(
            self,
            'Dashboard',
            dashboard_name=Stack.of(self).stack_name,
            default_interval=Duration.hours(6),
        )
        inbound_outcomes = [
            service_metric(names.SERVICE_INBOUND, name, label=name.removeprefix('InboundMail'))
            for name in names.INBOUND_OUTCOME_METRICS.values()
        ]
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown='# Inboxdesk\nMail in (SES -> ingest queue -> inbound function), replies out (API -> '
                'outbound queue -> sender -> SES or SMTP; SES events -> feedback function), the agents API. '
                'A message in a dead-letter queue needs a replay.',
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
                    service_metric(
                        names.SERVICE_INBOUND, names.INBOUND_FAILED_METRIC, label='Failed (retried, then DLQ)'
                    ),
                    service_metric(
                        names.SERVICE_INBOUND, names.EVENT_PUBLISH_FAILED_METRIC, label='Events not published'
                    ),
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                'Replies that could not be sent (retried, then DLQ)',
                [service_metric(names.SERVICE_OUTBOUND, names.REPLY_SEND_FAILED_METRIC, label='Send failed')],
                width=12,
            ),
            _graph(
                'SES reputation (SES reviews the account at the lines)',
                [alarm.metric for alarm in reputation_alarms],
                width=12,
                annotations=[alarm.to_annotation() for alarm in reputation_alarms],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                'Ingest queue: oldest message age (s)',
                [ingest_age_alarm.metric],
                width=8,
                annotations=[ingest_age_alarm.to_annotation()],
            ),
            _graph(
                'Work queues (waiting, in flight)',
                [
                    metric
                    for label, queue in {'Ingest': ingest_queue, **work_queues}.items()
                    for metric in (
                        queue.metric_approximate_number_of_messages_visible(
                            period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM, label=f'{label} waiting'
                        ),
                        queue.metric_approximate_number_of_messages_not_visible(
                            period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM, label=f'{label} in flight'
                        ),
                    )
                ],
                width=8,
            ),
            _graph(
                'Dead-letter queues',
                [
                    queue.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM, label=label
                    )
                    for label, queue in dead_letter_queues.items()
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


def service_metric(service: str, name: str, *, label: str | None = None) -> cloudwatch.Metric:
    """A count a function emits (Powertools EMF: namespace Inboxdesk, dimension `service`), per 5 minutes."""
    return cloudwatch.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={'service': service},
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
