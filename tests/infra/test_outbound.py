"""Template assertions: replies out (reply queue -> sender -> SES configuration set), SES events back
(topic -> feedback queue -> feedback function), the secrets, and who may use them."""

from __future__ import annotations

import json
from typing import Any

from inboxdesk import names, resources
from tests.infra.conftest import MAIL_DOMAINS, Synthesized
from tests.infra.helpers import as_list, of_type, one, props, resources_for, statements_of_role

SES_EVENT_TYPES = {'bounce', 'complaint', 'delivery', 'deliveryDelay', 'reject'}


def _function(t: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    [found] = [(k, v) for k, v in of_type(t, 'AWS::Lambda::Function').items() if props(v)['Handler'] == handler]
    return found


def _statements(t: dict[str, Any], handler: str) -> list[dict[str, Any]]:
    return statements_of_role(t, props(_function(t, handler)[1])['Role']['Fn::GetAtt'][0])


def _text(value: Any) -> str:
    """An ARN built with Fn::Join, as text: `arn:{AWS::Partition}:ses:...:identity/example.com`."""
    if isinstance(value, dict) and 'Fn::Join' in value:
        return ''.join(
            p if isinstance(p, str) else '{' + (p.get('Ref') or '.'.join(p['Fn::GetAtt'])) + '}'
            for p in value['Fn::Join'][1]
        )
    if isinstance(value, dict):
        return '{' + (value.get('Ref') or '.'.join(value['Fn::GetAtt'])) + '}'
    return str(value)


def _allowed(statements: list[dict[str, Any]], action: str) -> set[str]:
    return {_text(r) for r in resources_for(statements, action)}


def _mapping(t: dict[str, Any], function_id: str) -> dict[str, Any]:
    [found] = [
        props(m)
        for m in of_type(t, 'AWS::Lambda::EventSourceMapping').values()
        if props(m)['FunctionName'] == {'Ref': function_id}
    ]
    return found


def test_the_sender_reads_reply_jobs_in_batches_reporting_failures_and_jobs_dead_letter_after_retries(
    synthesized: Synthesized,
) -> None:
    # Given the reply queue, its dead-letter queue and the sender function
    t = synthesized.template
    queue_id, queue = one(t, 'AWS::SQS::Queue', 'OutboundQueue')
    dlq_id, _ = one(t, 'AWS::SQS::Queue', 'OutboundDlq')
    sender_id, sender = _function(t, names.HANDLER_OUTBOUND)
    # Then the sender is started by the reply queue, in batches, reporting only the failed records
    mapping = _mapping(t, sender_id)
    assert mapping['EventSourceArn'] == {'Fn::GetAtt': [queue_id, 'Arn']}
    assert mapping['FunctionResponseTypes'] == ['ReportBatchItemFailures']
    assert 1 < mapping['BatchSize'] <= 10
    # And a job is retried (each retry after the visibility timeout, which outlasts a send) and
    # dead-lettered after five receives
    assert props(queue)['RedrivePolicy'] == {
        'deadLetterTargetArn': {'Fn::GetAtt': [dlq_id, 'Arn']},
        'maxReceiveCount': 5,
    }
    assert props(queue)['VisibilityTimeout'] >= 6 * props(sender)['Timeout']
    # And the sender runs as the outbound service
    assert props(sender)['Environment']['Variables']['POWERTOOLS_SERVICE_NAME'] == 'inboxdesk-outbound'


def test_the_configuration_set_publishes_the_five_delivery_events_to_the_feedback_function(
    synthesized: Synthesized,
) -> None:
    # Given the SES configuration set and its event destination
    t = synthesized.template
    set_id, configuration_set = one(t, 'AWS::SES::ConfigurationSet', 'OutboundConfigurationSet')
    [destination] = of_type(t, 'AWS::SES::ConfigurationSetEventDestination').values()
    topic_id, _ = one(t, 'AWS::SNS::Topic', 'OutboundSesEvents')
    queue_id, queue = one(t, 'AWS::SQS::Queue', 'OutboundFeedbackQueue')
    dlq_id, _ = one(t, 'AWS::SQS::Queue', 'OutboundFeedbackDlq')
    # Then bounces, complaints, deliveries, delays and rejections go to the SES events topic
    assert props(destination)['ConfigurationSetName'] == {'Ref': set_id}
    event_destination = props(destination)['EventDestination']
    assert event_destination['Enabled'] is True
    assert set(event_destination['MatchingEventTypes']) == SES_EVENT_TYPES
    assert event_destination['SnsDestination'] == {'TopicARN': {'Ref': topic_id}}
    # And the sender is told the set's name
    sender = props(_function(t, names.HANDLER_OUTBOUND)[1])
    assert sender['Environment']['Variables'][resources.ENV_SES_CONFIGURATION_SET] == {'Ref': set_id}
    assert props(configuration_set)['Name']
    # And the topic delivers to the feedback queue (which dead-letters after five receives) ...
    [subscription] = [
        props(s) for s in of_type(t, 'AWS::SNS::Subscription').values() if props(s)['TopicArn'] == {'Ref': topic_id}
    ]
    assert (subscription['Protocol'], subscription['Endpoint']) == ('sqs', {'Fn::GetAtt': [queue_id, 'Arn']})
    assert props(queue)['RedrivePolicy']['deadLetterTargetArn'] == {'Fn::GetAtt': [dlq_id, 'Arn']}
    assert props(queue)['RedrivePolicy']['maxReceiveCount'] == 5
    # ... which starts the feedback function, reporting failed records
    feedback_id, feedback = _function(t, names.HANDLER_FEEDBACK)
    mapping = _mapping(t, feedback_id)
    assert mapping['EventSourceArn'] == {'Fn::GetAtt': [queue_id, 'Arn']}
    assert mapping['FunctionResponseTypes'] == ['ReportBatchItemFailures']
    assert props(queue)['VisibilityTimeout'] >= 6 * props(feedback)['Timeout']
    assert props(feedback)['Environment']['Variables']['POWERTOOLS_SERVICE_NAME'] == 'inboxdesk-feedback'


def test_ses_may_publish_and_encrypt_events_only_for_our_configuration_set(synthesized: Synthesized) -> None:
    # Given the SES events topic's policy and the key policy
    t = synthesized.template
    set_id, _ = one(t, 'AWS::SES::ConfigurationSet', 'OutboundConfigurationSet')
    topic_id, topic = one(t, 'AWS::SNS::Topic', 'OutboundSesEvents')
    [policy] = [p for p in of_type(t, 'AWS::SNS::TopicPolicy').values() if props(p)['Topics'] == [{'Ref': topic_id}]]
    our_set = f'arn:{{AWS::Partition}}:ses:{{AWS::Region}}:{{AWS::AccountId}}:configuration-set/{{{set_id}}}'
    # Then SES may publish to the topic only from our configuration set, over TLS
    [publish] = [s for s in props(policy)['PolicyDocument']['Statement'] if s['Effect'] == 'Allow']
    assert publish['Principal'] == {'Service': 'ses.amazonaws.com'}
    assert {_text(v) for v in publish['Condition']['StringEquals'].values()} == {our_set, '{AWS::AccountId}'}
    # And the topic is encrypted with the stack's key, which SES may use only for the same set
    key_id, key = one(t, 'AWS::KMS::Key', 'StorageKey')
    assert props(topic)['KmsMasterKeyId'] == {'Fn::GetAtt': [key_id, 'Arn']}
    [for_events] = [
        s
        for s in props(key)['KeyPolicy']['Statement']
        if s.get('Principal') == {'Service': 'ses.amazonaws.com'} and 'configuration-set' in json.dumps(s)
    ]
    assert _text(for_events['Condition']['ArnLike']['aws:SourceArn']) == our_set
    assert for_events['Condition']['StringEquals'] == {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}


def test_the_reply_token_and_cursor_keys_are_generated_secrets_under_the_stack_key(synthesized: Synthesized) -> None:
    # Given the stack's secrets
    t = synthesized.template
    key_id, _ = one(t, 'AWS::KMS::Key', 'StorageKey')
    secrets = of_type(t, 'AWS::SecretsManager::Secret')
    token_id, _ = one(t, 'AWS::SecretsManager::Secret', 'SecretsReplyTokenKey')
    cursor_id, _ = one(t, 'AWS::SecretsManager::Secret', 'SecretsCursorKey')
    # Then both are generated at deploy time (long, nothing typed in by anyone) and encrypted with the stack's key
    assert set(secrets) == {token_id, cursor_id}
    for secret in secrets.values():
        assert props(secret)['KmsKeyId'] == {'Fn::GetAtt': [key_id, 'Arn']}
        assert props(secret)['GenerateSecretString']['PasswordLength'] >= 32
        assert 'SecretString' not in props(secret)
    # And the functions are told which is which: the sender and the API the token key, the API the cursor key
    sender = props(_function(t, names.HANDLER_OUTBOUND)[1])['Environment']['Variables']
    api = props(_function(t, names.HANDLER_API)[1])['Environment']['Variables']
    assert sender[resources.ENV_REPLY_TOKEN_SECRET] == api[resources.ENV_REPLY_TOKEN_SECRET] == {'Ref': token_id}
    assert api[resources.ENV_CURSOR_SECRET] == {'Ref': cursor_id}
    assert resources.ENV_CURSOR_SECRET not in sender


def test_the_sender_may_send_as_our_domains_through_our_set_and_read_only_its_secrets(synthesized: Synthesized) -> None:
    # Given the sender's role
    t = synthesized.template
    set_id, _ = one(t, 'AWS::SES::ConfigurationSet', 'OutboundConfigurationSet')
    token_id, _ = one(t, 'AWS::SecretsManager::Secret', 'SecretsReplyTokenKey')
    statements = _statements(t, names.HANDLER_OUTBOUND)
    region = 'arn:{AWS::Partition}:ses:{AWS::Region}:{AWS::AccountId}'
    # Then it may send (v2 SendEmail with raw MIME, and SendRawEmail) as the stack's mail domains, through our set
    expected = {f'{region}:identity/{d}' for d in MAIL_DOMAINS} | {f'{region}:configuration-set/{{{set_id}}}'}
    assert _allowed(statements, 'ses:SendEmail') == _allowed(statements, 'ses:SendRawEmail') == expected
    # And it reads the reply-token key and the channel passwords, and writes, creates or deletes no secret
    channels = 'arn:{AWS::Partition}:secretsmanager:{AWS::Region}:{AWS::AccountId}:secret:Inboxdesk/channels/*'
    assert _allowed(statements, 'secretsmanager:GetSecretValue') == {f'{{{token_id}}}', channels}
    secret_actions = {a for s in statements for a in as_list(s['Action']) if a.startswith('secretsmanager:')}
    assert secret_actions == {'secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'}
    variables = props(_function(t, names.HANDLER_OUTBOUND)[1])['Environment']['Variables']
    assert channels.endswith(f':secret:{variables[resources.ENV_CHANNEL_SECRET_PREFIX]}*')
    # And it never sends to a queue (it only consumes the reply queue)
    assert not resources_for(statements, 'sqs:SendMessage')


def test_the_api_keeps_channel_passwords_under_the_stack_key_and_reads_ses_identities(synthesized: Synthesized) -> None:
    # Given the API function's role
    t = synthesized.template
    key_id, _ = one(t, 'AWS::KMS::Key', 'StorageKey')
    token_id, _ = one(t, 'AWS::SecretsManager::Secret', 'SecretsReplyTokenKey')
    cursor_id, _ = one(t, 'AWS::SecretsManager::Secret', 'SecretsCursorKey')
    statements = _statements(t, names.HANDLER_API)
    channels = 'arn:{AWS::Partition}:secretsmanager:{AWS::Region}:{AWS::AccountId}:secret:Inboxdesk/channels/*'
    # Then it may create a channel secret only encrypted with the stack's key ...
    [create] = [s for s in statements if 'secretsmanager:CreateSecret' in as_list(s['Action'])]
    assert _text(create['Resource']) == channels
    assert create['Condition'] == {'StringEquals': {'secretsmanager:KmsKeyId': {'Fn::GetAtt': [key_id, 'Arn']}}}
    # ... update, replace and delete channel secrets, and nothing else of Secrets Manager outside them
    for action in ('UpdateSecret', 'PutSecretValue', 'DeleteSecret'):
        assert _allowed(statements, f'secretsmanager:{action}') == {channels}, action
    assert _allowed(statements, 'secretsmanager:GetSecretValue') == {channels, f'{{{token_id}}}', f'{{{cursor_id}}}'}
    # And it knows the key to name when it creates one
    variables = props(_function(t, names.HANDLER_API)[1])['Environment']['Variables']
    assert variables[resources.ENV_SECRETS_KMS_KEY] == {'Fn::GetAtt': [key_id, 'Arn']}
    # And it may read whether SES verified an identity, and may not send mail itself
    assert _allowed(statements, 'ses:GetEmailIdentity') == {
        'arn:{AWS::Partition}:ses:{AWS::Region}:{AWS::AccountId}:identity/*'
    }
    assert not resources_for(statements, 'ses:SendEmail')
    assert not resources_for(statements, 'ses:SendRawEmail')


def test_smtp_host_allow_list_defaults_to_empty_for_the_functions_that_connect_to_smtp(
    synthesized: Synthesized,
) -> None:
    # Given cdk.json's context, which names no SMTP host
    t = synthesized.template
    assert synthesized.context.get('inboxdesk:smtpHostAllowList', []) == []
    # Then the sender and the API (which tests a channel's connection) get an empty allow list, and only they
    for handler in (names.HANDLER_OUTBOUND, names.HANDLER_API):
        assert props(_function(t, handler)[1])['Environment']['Variables'][resources.ENV_SMTP_HOST_ALLOW_LIST] == ''
    for handler in (names.HANDLER_INBOUND, names.HANDLER_FEEDBACK, names.HANDLER_REPLY_SWEEP):
        assert resources.ENV_SMTP_HOST_ALLOW_LIST not in props(_function(t, handler)[1])['Environment']['Variables']


def test_alarms_on_dead_replies_and_feedback_send_failures_and_ses_reputation(synthesized: Synthesized) -> None:
    # Given the alarms of the stack
    t = synthesized.template
    alarm_topic, _ = one(t, 'AWS::SNS::Topic', 'MonitoringAlarms')
    alarms = [props(a) for a in of_type(t, 'AWS::CloudWatch::Alarm').values()]
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms:
        by_metric.setdefault(alarm['MetricName'], []).append(alarm)
    # Then a job in the reply DLQ or the feedback DLQ raises one
    dlq_alarms = {a['Dimensions'][0]['Value']['Fn::GetAtt'][0] for a in by_metric['ApproximateNumberOfMessagesVisible']}
    for prefix in ('OutboundDlq', 'OutboundFeedbackDlq'):
        assert one(t, 'AWS::SQS::Queue', prefix)[0] in dlq_alarms
    # And so does any ReplySendFailed the sender counts (namespace Inboxdesk, the outbound service)
    [failed] = by_metric['ReplySendFailed']
    assert failed['Namespace'] == 'Inboxdesk'
    assert failed['Dimensions'] == [{'Name': 'service', 'Value': 'inboxdesk-outbound'}]
    assert (failed['Threshold'], failed['ComparisonOperator']) == (0, 'GreaterThanThreshold')
    # And SES's account bounce rate reaching 5 % and complaint rate reaching 0.1 % (SES's review levels)
    [bounce] = by_metric['Reputation.BounceRate']
    [complaint] = by_metric['Reputation.ComplaintRate']
    for alarm, limit in ((bounce, 0.05), (complaint, 0.001)):
        assert alarm['Namespace'] == 'AWS/SES'
        assert (alarm['Threshold'], alarm['ComparisonOperator']) == (limit, 'GreaterThanOrEqualToThreshold')
        assert alarm['TreatMissingData'] == 'notBreaching'
    # And each notifies the alarm topic
    for alarm in (failed, bounce, complaint):
        assert alarm['AlarmActions'] == [{'Ref': alarm_topic}]


def test_the_smtp_host_allow_list_is_read_as_a_list_or_as_cdk_synth_c_passes_it() -> None:
    # Given the allow list as cdk.json holds it (a list) and as `cdk synth -c key=a,b` passes it (a string)
    from aws_cdk import App, Stack

    from infra.constants import Settings

    for value in (['smtp.corp.example', 'Mail.Corp.Example'], 'smtp.corp.example, Mail.Corp.Example'):
        app = App(context={'inboxdesk:mailDomains': ['support.example.com'], 'inboxdesk:smtpHostAllowList': value})
        # When the stack reads its settings
        settings = Settings.from_context(Stack(app, 'AllowList'))
        # Then both give the same host names, lower-cased as DNS compares them
        assert settings.smtp_host_allow_list == ['smtp.corp.example', 'mail.corp.example'], value


def test_the_inbound_function_reads_the_reply_token_key_and_queues_acknowledgements_on_the_reply_queue(
    synthesized: Synthesized,
) -> None:
    # Given the inbound function (answers thread by their reply token; new tickets may be acknowledged)
    t = synthesized.template
    token_id, _ = one(t, 'AWS::SecretsManager::Secret', 'SecretsReplyTokenKey')
    replies_id, _ = one(t, 'AWS::SQS::Queue', 'OutboundQueue')
    variables = props(_function(t, names.HANDLER_INBOUND)[1])['Environment']['Variables']
    statements = _statements(t, names.HANDLER_INBOUND)
    # Then it is told where the token key is, and may read that secret and no other
    assert variables[resources.ENV_REPLY_TOKEN_SECRET] == {'Ref': token_id}
    assert _allowed(statements, 'secretsmanager:GetSecretValue') == {f'{{{token_id}}}'}
    # And it may put jobs on the reply queue, which it is told the URL of (and a mail the table refuses on
    # its own DLQ: nothing else)
    assert variables[resources.ENV_OUTBOUND_QUEUE_URL] == {'Ref': replies_id}
    ingest_dlq_id, _ = one(t, 'AWS::SQS::Queue', 'MailIngestIngestDlq')
    assert _allowed(statements, 'sqs:SendMessage') == {f'{{{replies_id}.Arn}}', f'{{{ingest_dlq_id}.Arn}}'}
