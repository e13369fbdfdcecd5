"""Template assertions: what runs on a schedule (the reply sweep) and what operators watch (dashboard, alarms)."""

from __future__ import annotations

import json
from typing import Any

from inboxdesk import names
from tests.infra.conftest import Synthesized
from tests.infra.helpers import as_list, of_type, one, props, statements_of_role

INBOUND_SERVICE = 'inboxdesk-inbound'


def _function_id(t: dict[str, Any], handler: str) -> str:
    [found] = [k for k, v in of_type(t, 'AWS::Lambda::Function').items() if props(v)['Handler'] == handler]
    return found


def _dashboard_body(t: dict[str, Any]) -> dict[str, Any]:
    """The dashboard JSON, with each CloudFormation reference written as `{Ref:X}` / `{X.Attr}`."""
    [dashboard] = of_type(t, 'AWS::CloudWatch::Dashboard').values()
    body = props(dashboard)['DashboardBody']
    parts = body['Fn::Join'][1] if isinstance(body, dict) else [body]
    text = ''
    for part in parts:
        if isinstance(part, str):
            text += part
        elif 'Ref' in part:
            text += '{Ref:' + part['Ref'] + '}'
        else:
            text += '{' + '.'.join(part['Fn::GetAtt']) + '}'
    result: dict[str, Any] = json.loads(text)
    return result


def _metrics(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every metric line of every graph."""
    found = []
    for widget in body['widgets']:
        for line in widget['properties'].get('metrics', []):
            names = [x for x in line if isinstance(x, str)]
            found.append((names[0], names[1], dict(zip(names[2::2], names[3::2], strict=True))))
    return found


def test_the_reply_sweep_runs_every_minute_with_retries_and_a_dead_letter_queue(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    function_id = _function_id(t, names.HANDLER_REPLY_SWEEP)
    dlq_id, dlq = one(t, 'AWS::SQS::Queue', 'ReplySweepDlq')
    # When reading its EventBridge Scheduler schedules
    [schedule] = of_type(t, 'AWS::Scheduler::Schedule').values()
    p = props(schedule)
    # Then one schedule invokes the sweep function every minute, exactly on time
    assert p['ScheduleExpression'] == 'rate(1 minute)'
    assert p['FlexibleTimeWindow'] == {'Mode': 'OFF'}
    assert p['State'] == 'ENABLED'
    assert p['Target']['Arn'] == {'Fn::GetAtt': [function_id, 'Arn']}
    # And a failed invocation is retried, then dead-lettered to a queue kept 14 days and encrypted with the key
    assert p['Target']['RetryPolicy']['MaximumRetryAttempts'] >= 1
    assert 60 <= p['Target']['RetryPolicy']['MaximumEventAgeInSeconds'] <= 3600
    assert p['Target']['DeadLetterConfig'] == {'Arn': {'Fn::GetAtt': [dlq_id, 'Arn']}}
    assert props(dlq)['MessageRetentionPeriod'] == 14 * 24 * 3600
    key_id, _ = one(t, 'AWS::KMS::Key', 'StorageKey')
    assert props(dlq)['KmsMasterKeyId'] == {'Fn::GetAtt': [key_id, 'Arn']}


def test_the_schedule_role_may_only_invoke_the_sweep_and_dead_letter(synthesized: Synthesized) -> None:
    # Given the role the schedule runs with
    t = synthesized.template
    [schedule] = of_type(t, 'AWS::Scheduler::Schedule').values()
    role_id = props(schedule)['Target']['RoleArn']['Fn::GetAtt'][0]
    role = props(t['Resources'][role_id])
    dlq_id, _ = one(t, 'AWS::SQS::Queue', 'ReplySweepDlq')
    key_id, _ = one(t, 'AWS::KMS::Key', 'StorageKey')
    # Then only EventBridge Scheduler, acting for this account, can assume it
    [trust] = role['AssumeRolePolicyDocument']['Statement']
    assert trust['Principal'] == {'Service': 'scheduler.amazonaws.com'}
    assert trust['Condition'] == {'StringEquals': {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}}
    # And it may invoke the sweep function, send to the sweep's DLQ with the stack's key, and nothing else
    allowed = {
        (action, json.dumps(resource, sort_keys=True))
        for statement in statements_of_role(t, role_id)
        for action in as_list(statement['Action'])
        for resource in as_list(statement['Resource'])
    }
    assert allowed == {
        (
            'lambda:InvokeFunction',
            json.dumps({'Fn::GetAtt': [_function_id(t, names.HANDLER_REPLY_SWEEP), 'Arn']}, sort_keys=True),
        ),
        ('sqs:SendMessage', json.dumps({'Fn::GetAtt': [dlq_id, 'Arn']}, sort_keys=True)),
        ('kms:Decrypt', json.dumps({'Fn::GetAtt': [key_id, 'Arn']}, sort_keys=True)),
        ('kms:GenerateDataKey', json.dumps({'Fn::GetAtt': [key_id, 'Arn']}, sort_keys=True)),
    }


def test_the_sweep_function_has_time_for_a_batch_and_no_queue_trigger(synthesized: Synthesized) -> None:
    # Given the sweep function
    t = synthesized.template
    function_id = _function_id(t, names.HANDLER_REPLY_SWEEP)
    function = props(t['Resources'][function_id])
    # Then it may run up to a minute (one sweep per schedule tick) and only the schedule starts it
    assert function['Timeout'] == 60
    assert not [
        m
        for m in of_type(t, 'AWS::Lambda::EventSourceMapping').values()
        if props(m)['FunctionName'] == {'Ref': function_id}
    ]
    assert not [
        p
        for p in of_type(t, 'AWS::Lambda::Permission').values()
        if props(p)['FunctionName'] == {'Fn::GetAtt': [function_id, 'Arn']}
    ]


def test_inbound_failures_and_old_ingest_mail_raise_alarms(synthesized: Synthesized) -> None:
    # Given the alarms of the stack
    t = synthesized.template
    alarm_topic, _ = one(t, 'AWS::SNS::Topic', 'MonitoringAlarms')
    ingest_queue, _ = one(t, 'AWS::SQS::Queue', 'MailIngestIngestQueue')
    alarms = [props(a) for a in of_type(t, 'AWS::CloudWatch::Alarm').values()]
    # Then one fires on any InboundMailFailed count the inbound handler emits (namespace Inboxdesk, its service)
    [failed] = [a for a in alarms if a['MetricName'] == 'InboundMailFailed']
    assert failed['Namespace'] == 'Inboxdesk'
    assert failed['Dimensions'] == [{'Name': 'service', 'Value': INBOUND_SERVICE}]
    assert failed['Statistic'] == 'Sum'
    assert (failed['Threshold'], failed['ComparisonOperator']) == (0, 'GreaterThanThreshold')
    assert failed['TreatMissingData'] == 'notBreaching'
    # And one fires when the oldest mail on the ingest queue has waited over 15 minutes (longer than a retry)
    [age] = [a for a in alarms if a['MetricName'] == 'ApproximateAgeOfOldestMessage']
    assert age['Namespace'] == 'AWS/SQS'
    assert age['Dimensions'] == [{'Name': 'QueueName', 'Value': {'Fn::GetAtt': [ingest_queue, 'QueueName']}}]
    assert (age['Threshold'], age['Statistic'], age['ComparisonOperator']) == (900, 'Maximum', 'GreaterThanThreshold')
    assert age['Threshold'] > props(t['Resources'][ingest_queue])['VisibilityTimeout']
    # And both notify the alarm topic
    assert failed['AlarmActions'] == age['AlarmActions'] == [{'Ref': alarm_topic}]


def test_the_dashboard_shows_mail_queues_dead_letters_functions_and_the_api(synthesized: Synthesized) -> None:
    # Given the dashboard
    t = synthesized.template
    body = _dashboard_body(t)
    metrics = _metrics(body)
    queue = {
        name: one(t, 'AWS::SQS::Queue', prefix)[0]
        for name, prefix in (
            ('ingest', 'MailIngestIngestQueue'),
            ('ingest_dlq', 'MailIngestIngestDlq'),
            ('outbound', 'OutboundQueue'),
            ('outbound_dlq', 'OutboundDlq'),
            ('feedback', 'OutboundFeedbackQueue'),
            ('feedback_dlq', 'OutboundFeedbackDlq'),
            ('sweep_dlq', 'ReplySweepDlq'),
        )
    }
    # Then it graphs every outcome and failure count of the inbound handler, by its service dimension
    from inboxdesk.names import INBOUND_OUTCOME_METRICS as METRICS  # the names the handler emits

    inboxdesk = {
        name for namespace, name, dims in metrics if namespace == 'Inboxdesk' and dims == {'service': INBOUND_SERVICE}
    }
    assert inboxdesk >= {*METRICS.values(), 'InboundMailFailed'}
    # And the ingest queue's oldest message age, the depth of every work queue and every dead-letter queue
    sqs = {(name, dims['QueueName']) for namespace, name, dims in metrics if namespace == 'AWS/SQS'}
    assert ('ApproximateAgeOfOldestMessage', f'{{{queue["ingest"]}.QueueName}}') in sqs
    for name in queue:
        assert ('ApproximateNumberOfMessagesVisible', f'{{{queue[name]}.QueueName}}') in sqs
    # And the replies that could not be sent, and SES's bounce and complaint rates
    assert ('Inboxdesk', 'ReplySendFailed', {'service': 'inboxdesk-outbound'}) in metrics
    ses = {name for namespace, name, dims in metrics if namespace == 'AWS/SES' and not dims}
    assert ses >= {'Reputation.BounceRate', 'Reputation.ComplaintRate'}
    # And errors, duration and throttles of each function
    lambdas = {(name, dims['FunctionName']) for namespace, name, dims in metrics if namespace == 'AWS/Lambda'}
    handlers = (
        names.HANDLER_INBOUND,
        names.HANDLER_API,
        names.HANDLER_REPLY_SWEEP,
        names.HANDLER_OUTBOUND,
        names.HANDLER_FEEDBACK,
    )
    for handler in handlers:
        function = f'{{Ref:{_function_id(t, handler)}}}'
        assert {('Errors', function), ('Duration', function), ('Throttles', function)} <= lambdas
    # And the API's 4xx, 5xx and latency
    [api_id] = of_type(t, 'AWS::ApiGatewayV2::Api')
    api = {
        name
        for namespace, name, dims in metrics
        if namespace == 'AWS/ApiGateway' and dims == {'ApiId': f'{{Ref:{api_id}}}'}
    }
    assert {'4xx', '5xx', 'Latency'} <= api
    # And every alarm of the stack is on it
    [alarm_widget] = [w for w in body['widgets'] if w['type'] == 'alarm']
    assert sorted(alarm_widget['properties']['alarms']) == sorted(
        f'{{{a}.Arn}}' for a in of_type(t, 'AWS::CloudWatch::Alarm')
    )


def test_the_stack_outputs_a_link_to_the_dashboard(synthesized: Synthesized) -> None:
    # Given the stack's outputs and its dashboard
    t = synthesized.template
    [(dashboard_id, dashboard)] = of_type(t, 'AWS::CloudWatch::Dashboard').items()
    # Then DashboardUrl opens the dashboard (named after the stack) in the console of the stack's region
    assert props(dashboard)['DashboardName'] == 'Inboxdesk'
    assert t['Outputs']['DashboardUrl']['Value'] == {
        'Fn::Join': [
            '',
            [
                'https://console.aws.amazon.com/cloudwatch/home?region=',
                {'Ref': 'AWS::Region'},
                '#dashboards:name=',
                {'Ref': dashboard_id},
            ],
        ]
    }
