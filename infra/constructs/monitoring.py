"""Monitoring: the alarm topic (email subscription from context) and the alarms that feed it."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct


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

    def _add(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm
