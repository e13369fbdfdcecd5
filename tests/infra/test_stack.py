"""Template assertions: storage, mail ingest, outbound, functions and their IAM, monitoring."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from inboxdesk import config, names, resources
from tests.infra.conftest import MAIL_DOMAINS, Synthesized
from tests.infra.helpers import arn_suffix, as_list, of_type, one, props, resources_for, statements_of_role

HANDLERS = {
    'inbound': names.HANDLER_INBOUND,
    'api': names.HANDLER_API,
    'sweep': names.HANDLER_REPLY_SWEEP,
    'sender': names.HANDLER_OUTBOUND,
    'feedback': names.HANDLER_FEEDBACK,
}
SERVICES = {
    'inbound': 'inboxdesk-inbound',
    'api': 'inboxdesk-api',
    'sweep': 'inboxdesk-reply-sweep',
    'sender': 'inboxdesk-outbound',
    'feedback': 'inboxdesk-feedback',
}


def _ids(t: dict[str, Any]) -> dict[str, str]:
    """Logical ids of the resources the assertions talk about, found by their construct paths."""
    return {
        'key': one(t, 'AWS::KMS::Key', 'StorageKey')[0],
        'table': one(t, 'AWS::DynamoDB::Table', 'StorageTable')[0],
        'bucket': one(t, 'AWS::S3::Bucket', 'StorageMailBucket')[0],
        'logs_bucket': one(t, 'AWS::S3::Bucket', 'StorageAccessLogs')[0],
        'bus': one(t, 'AWS::Events::EventBus', 'StorageEventBus')[0],
        'topic': one(t, 'AWS::SNS::Topic', 'MailIngestNotices')[0],
        'ingest_queue': one(t, 'AWS::SQS::Queue', 'MailIngestIngestQueue')[0],
        'ingest_dlq': one(t, 'AWS::SQS::Queue', 'MailIngestIngestDlq')[0],
        'outbound_queue': one(t, 'AWS::SQS::Queue', 'OutboundQueue')[0],
        'outbound_dlq': one(t, 'AWS::SQS::Queue', 'OutboundDlq')[0],
        'sweep_dlq': one(t, 'AWS::SQS::Queue', 'ReplySweepDlq')[0],
        'feedback_queue': one(t, 'AWS::SQS::Queue', 'OutboundFeedbackQueue')[0],
        'feedback_dlq': one(t, 'AWS::SQS::Queue', 'OutboundFeedbackDlq')[0],
        'ses_events': one(t, 'AWS::SNS::Topic', 'OutboundSesEvents')[0],
        'configuration_set': one(t, 'AWS::SES::ConfigurationSet', 'OutboundConfigurationSet')[0],
        'reply_token_secret': one(t, 'AWS::SecretsManager::Secret', 'SecretsReplyTokenKey')[0],
        'cursor_secret': one(t, 'AWS::SecretsManager::Secret', 'SecretsCursorKey')[0],
        'alarm_topic': one(t, 'AWS::SNS::Topic', 'MonitoringAlarms')[0],
    }


def _function(t: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    [found] = [(k, v) for k, v in of_type(t, 'AWS::Lambda::Function').items() if props(v)['Handler'] == HANDLERS[name]]
    return found


def _role_id(function: dict[str, Any]) -> str:
    return str(props(function)['Role']['Fn::GetAtt'][0])


def _prefixes(statements: list[dict[str, Any]], action: str, resource_id: str) -> list[str]:
    """Sorted ARN suffixes (`/raw/*`, `/index/*`, '') of the resources `action` is allowed on."""
    return sorted(str(arn_suffix(r, resource_id)) for r in resources_for(statements, action))


def test_one_table_with_the_keys_and_indexes_of_resources_py(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    ids = _ids(t)
    # When reading its DynamoDB tables
    [table] = of_type(t, 'AWS::DynamoDB::Table').values()
    p = props(table)
    # Then there is one on-demand table keyed pk/sk with gsi1..gsi5 on gsiNpk/gsiNsk, all projected
    assert p['KeySchema'] == [
        {'AttributeName': resources.TABLE_HASH_KEY, 'KeyType': 'HASH'},
        {'AttributeName': resources.TABLE_RANGE_KEY, 'KeyType': 'RANGE'},
    ]
    assert p['BillingMode'] == 'PAY_PER_REQUEST'
    indexes = {i['IndexName']: i for i in p['GlobalSecondaryIndexes']}
    assert sorted(indexes) == sorted(resources.TABLE_INDEXES)
    for name, index in indexes.items():
        assert index['KeySchema'] == [
            {'AttributeName': f'{name}pk', 'KeyType': 'HASH'},
            {'AttributeName': f'{name}sk', 'KeyType': 'RANGE'},
        ]
        assert index['Projection'] == {'ProjectionType': 'ALL'}
    assert {a['AttributeType'] for a in p['AttributeDefinitions']} == {'S'}
    # And rate-limit marks expire through the table's TTL attribute
    assert p['TimeToLiveSpecification'] == {'AttributeName': resources.TABLE_TTL_ATTRIBUTE, 'Enabled': True}
    # And it has point-in-time recovery and is encrypted with the stack's customer-managed key
    assert p['PointInTimeRecoverySpecification']['PointInTimeRecoveryEnabled'] is True
    assert p['SSESpecification'] == {
        'SSEEnabled': True,
        'SSEType': 'KMS',
        'KMSMasterKeyId': {'Fn::GetAtt': [ids['key'], 'Arn']},
    }
    assert table['DeletionPolicy'] == 'Retain'


def test_one_customer_managed_key_with_rotation_encrypts_bucket_topics_and_queues(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    ids = _ids(t)
    # Then there is one KMS key, rotated
    [key] = of_type(t, 'AWS::KMS::Key').values()
    assert props(key)['EnableKeyRotation'] is True
    key_arn = {'Fn::GetAtt': [ids['key'], 'Arn']}
    # And every topic and queue uses it
    for topic in of_type(t, 'AWS::SNS::Topic').values():
        assert props(topic)['KmsMasterKeyId'] == key_arn
    for queue in of_type(t, 'AWS::SQS::Queue').values():
        assert props(queue)['KmsMasterKeyId'] == key_arn
    # And the mail bucket's default encryption is SSE-KMS with it
    [rule] = props(t['Resources'][ids['bucket']])['BucketEncryption']['ServerSideEncryptionConfiguration']
    assert rule['ServerSideEncryptionByDefault'] == {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key_arn}


def test_mail_bucket_is_private_versioned_logged_and_expires_raw_mail(synthesized: Synthesized) -> None:
    # Given the synthesized stack and its context
    t = synthesized.template
    ids = _ids(t)
    bucket = props(t['Resources'][ids['bucket']])
    # Then public access is blocked entirely, versions are kept, and access is logged to the logs bucket
    assert bucket['PublicAccessBlockConfiguration'] == {
        'BlockPublicAcls': True,
        'BlockPublicPolicy': True,
        'IgnorePublicAcls': True,
        'RestrictPublicBuckets': True,
    }
    assert bucket['VersioningConfiguration'] == {'Status': 'Enabled'}
    assert bucket['LoggingConfiguration']['DestinationBucketName'] == {'Ref': ids['logs_bucket']}
    # And raw mail moves to a cheaper class, then expires after the configured retention
    [raw_rule] = [r for r in bucket['LifecycleConfiguration']['Rules'] if r.get('Prefix') == resources.RAW_MAIL_PREFIX]
    assert raw_rule['ExpirationInDays'] == synthesized.context['inboxdesk:rawMailRetentionDays']
    assert [tr['StorageClass'] for tr in raw_rule['Transitions']] == ['STANDARD_IA']
    # And both buckets refuse requests without TLS
    for policy in of_type(t, 'AWS::S3::BucketPolicy').values():
        [deny] = [s for s in props(policy)['PolicyDocument']['Statement'] if s['Effect'] == 'Deny']
        assert deny['Condition'] == {'Bool': {'aws:SecureTransport': 'false'}}


def test_one_receipt_rule_per_domain_stores_raw_mail_and_notifies_the_topic(synthesized: Synthesized) -> None:
    # Given the synthesized stack, configured with two creation-address domains
    t = synthesized.template
    ids = _ids(t)
    # When reading the SES receipt rules
    [(rule_set_id, rule_set)] = of_type(t, 'AWS::SES::ReceiptRuleSet').items()
    rules = [props(r) for r in of_type(t, 'AWS::SES::ReceiptRule').values()]
    # Then the rule set has the configured name, and each domain has exactly one rule in it
    assert props(rule_set)['RuleSetName'] == synthesized.context['inboxdesk:receiptRuleSetName']
    assert sorted(r['Rule']['Recipients'] for r in rules) == sorted([d] for d in MAIL_DOMAINS)
    for rule in rules:
        assert rule['RuleSetName'] == {'Ref': rule_set_id}
        assert rule['Rule']['Enabled'] is True
        assert rule['Rule']['ScanEnabled'] is True
        assert rule['Rule']['TlsPolicy'] == 'Require'
        # And its S3 action writes under raw/ of the mail bucket with a notice to the topic
        assert rule['Rule']['Actions'] == [
            {
                'S3Action': {
                    'BucketName': {'Ref': ids['bucket']},
                    'ObjectKeyPrefix': resources.RAW_MAIL_PREFIX,
                    'TopicArn': {'Ref': ids['topic']},
                }
            }
        ]


def test_ses_may_write_raw_mail_only_from_our_rules(synthesized: Synthesized) -> None:
    # Given the mail bucket's policy
    t = synthesized.template
    ids = _ids(t)
    [policy] = [p for p in of_type(t, 'AWS::S3::BucketPolicy').values() if props(p)['Bucket'] == {'Ref': ids['bucket']}]
    [ses] = [
        s
        for s in props(policy)['PolicyDocument']['Statement']
        if s.get('Principal') == {'Service': 'ses.amazonaws.com'}
    ]
    # Then SES may only PutObject under raw/, from this account and from our receipt rules
    assert ses['Action'] == 's3:PutObject'
    assert arn_suffix(ses['Resource'], ids['bucket']) == f'/{resources.RAW_MAIL_PREFIX}*'
    assert ses['Condition']['StringEquals'] == {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}
    source_arns = [
        ''.join(x for x in a['Fn::Join'][1] if isinstance(x, str)) for a in ses['Condition']['ArnLike']['aws:SourceArn']
    ]
    rule_set = synthesized.context['inboxdesk:receiptRuleSetName']
    assert sorted(source_arns) == sorted(
        f'arn::ses:::receipt-rule-set/{rule_set}:receipt-rule/inboxdesk-{d}' for d in MAIL_DOMAINS
    )
    # And the key policy lets SES (for our rules, with the same conditions, and for our configuration set),
    # SNS and CloudWatch alarms use the key, nobody else by service
    [key] = of_type(t, 'AWS::KMS::Key').values()
    by_service = [
        (s['Principal']['Service'], s)
        for s in props(key)['KeyPolicy']['Statement']
        if 'Service' in s.get('Principal', {})
    ]
    assert {service for service, _ in by_service} == {
        'ses.amazonaws.com',
        'sns.amazonaws.com',
        'cloudwatch.amazonaws.com',
    }
    ses_conditions = [s['Condition'] for service, s in by_service if service == 'ses.amazonaws.com']
    assert len(ses_conditions) == 2
    assert ses['Condition'] in ses_conditions


def test_notices_reach_the_ingest_queue_which_has_a_dlq_after_five_receives(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    ids = _ids(t)
    # Then the SES notice topic delivers to the ingest queue (SNS envelope kept, as `make dev` posts it)
    [subscription] = [
        s for s in of_type(t, 'AWS::SNS::Subscription').values() if props(s)['TopicArn'] == {'Ref': ids['topic']}
    ]
    assert props(subscription)['Protocol'] == 'sqs'
    assert props(subscription)['Endpoint'] == {'Fn::GetAtt': [ids['ingest_queue'], 'Arn']}
    assert not props(subscription).get('RawMessageDelivery')
    # And every work queue dead-letters after 5 receives, and every queue refuses requests without TLS
    for queue, dlq in (
        ('ingest_queue', 'ingest_dlq'),
        ('outbound_queue', 'outbound_dlq'),
        ('feedback_queue', 'feedback_dlq'),
    ):
        assert props(t['Resources'][ids[queue]])['RedrivePolicy'] == {
            'deadLetterTargetArn': {'Fn::GetAtt': [ids[dlq], 'Arn']},
            'maxReceiveCount': 5,
        }
    queue_policies = of_type(t, 'AWS::SQS::QueuePolicy').values()
    ssl_enforced = {
        q['Ref']
        for p in queue_policies
        for s in props(p)['PolicyDocument']['Statement']
        if s['Effect'] == 'Deny' and s.get('Condition') == {'Bool': {'aws:SecureTransport': 'false'}}
        for q in props(p)['Queues']
    }
    assert ssl_enforced == set(of_type(t, 'AWS::SQS::Queue'))


def test_inbound_function_reads_the_ingest_queue_reporting_batch_item_failures(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    ids = _ids(t)
    inbound_id, _ = _function(t, 'inbound')
    # Then exactly one event source mapping starts it: ingest queue -> inbound function, batches of 10, partial failures
    [mapping] = [
        m
        for m in of_type(t, 'AWS::Lambda::EventSourceMapping').values()
        if props(m)['FunctionName'] == {'Ref': inbound_id}
    ]
    p = props(mapping)
    assert p['EventSourceArn'] == {'Fn::GetAtt': [ids['ingest_queue'], 'Arn']}
    assert p['FunctionName'] == {'Ref': inbound_id}
    assert p['FunctionResponseTypes'] == ['ReportBatchItemFailures']
    assert p['BatchSize'] == 10
    assert p['ScalingConfig']['MaximumConcurrency'] == synthesized.context.get('inboxdesk:inboundMaxConcurrency', 5)
    # And the queue hides a message long enough for the function to finish (6x its timeout)
    _, inbound = _function(t, 'inbound')
    assert props(t['Resources'][ids['ingest_queue']])['VisibilityTimeout'] == 6 * props(inbound)['Timeout']


def test_functions_run_python_312_on_arm64_with_both_layers_json_logs_and_tracing(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    layer_ids = set(of_type(t, 'AWS::Lambda::LayerVersion'))
    log_groups = of_type(t, 'AWS::Logs::LogGroup')
    for name in HANDLERS:
        # When reading each function
        _, function = _function(t, name)
        p = props(function)
        # Then it is Python 3.12 on arm64, with the domain and the dependencies layers
        assert p['Runtime'] == 'python3.12'
        assert p['Architectures'] == ['arm64']
        assert {layer['Ref'] for layer in p['Layers']} == layer_ids
        # And it logs JSON into its own log group with a retention, and traces actively
        assert p['LoggingConfig']['LogFormat'] == 'JSON'
        log_group = log_groups[p['LoggingConfig']['LogGroup']['Ref']]
        assert props(log_group)['RetentionInDays'] >= synthesized.context['inboxdesk:logRetentionDays']
        assert p['TracingConfig'] == {'Mode': 'Active'}
    assert len(layer_ids) == 2
    domain = one(t, 'AWS::Lambda::LayerVersion', 'LayersDomain')[1]
    assert props(domain)['CompatibleArchitectures'] == ['arm64']
    assert props(domain)['CompatibleRuntimes'] == ['python3.12']


_READ_VARIABLES = (
    resources.ENV_TABLE,
    resources.ENV_MAIL_BUCKET,
    resources.ENV_EVENT_BUS,
    resources.ENV_OWN_DOMAINS,
    resources.ENV_OUTBOUND_QUEUE_URL,
    resources.ENV_INGEST_DLQ_URL,
    resources.ENV_SES_CONFIGURATION_SET,
    resources.ENV_REPLY_TOKEN_SECRET,
    resources.ENV_CURSOR_SECRET,
    resources.ENV_CHANNEL_SECRET_PREFIX,
    resources.ENV_SECRETS_KMS_KEY,
    resources.ENV_SMTP_HOST_ALLOW_LIST,
    config.ENV_INLINE_BODY_LIMIT,
    config.ENV_QUEUE_CACHE_SECONDS,
)


def _variables(t: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(props(_function(t, name)[1])['Environment']['Variables'])


def test_each_function_gets_exactly_the_variables_its_code_reads(synthesized: Synthesized) -> None:
    # Given the synthesized stack and the variables each function's code paths read (inboxdesk.config,
    # inboxdesk.dal, inboxdesk.events): inbound publishes events, verifies reply tokens and queues
    # acknowledgements, the API and the sweep queue reply jobs,
    # the sender sends through the configuration set with reply tokens and channel passwords
    t = synthesized.template
    ids = _ids(t)
    stores = {resources.ENV_TABLE: {'Ref': ids['table']}, resources.ENV_MAIL_BUCKET: {'Ref': ids['bucket']}}
    tuning = {config.ENV_INLINE_BODY_LIMIT: '4096', config.ENV_QUEUE_CACHE_SECONDS: '60'}
    domains = ','.join(MAIL_DOMAINS)
    channels = {
        resources.ENV_REPLY_TOKEN_SECRET: {'Ref': ids['reply_token_secret']},
        resources.ENV_CHANNEL_SECRET_PREFIX: 'Inboxdesk/channels/',
        resources.ENV_SMTP_HOST_ALLOW_LIST: '',  # cdk.json's default: no SMTP host may resolve privately
    }
    expected = {
        'inbound': {
            **stores,
            **tuning,
            resources.ENV_EVENT_BUS: {'Ref': ids['bus']},
            resources.ENV_OWN_DOMAINS: domains,
            resources.ENV_REPLY_TOKEN_SECRET: {'Ref': ids['reply_token_secret']},  # answers thread by token
            resources.ENV_OUTBOUND_QUEUE_URL: {'Ref': ids['outbound_queue']},  # acknowledgements are queued
            resources.ENV_INGEST_DLQ_URL: {'Ref': ids['ingest_dlq']},
        },
        'api': {
            **stores,
            **tuning,
            **channels,
            resources.ENV_OUTBOUND_QUEUE_URL: {'Ref': ids['outbound_queue']},
            resources.ENV_OWN_DOMAINS: domains,
            resources.ENV_CURSOR_SECRET: {'Ref': ids['cursor_secret']},
            resources.ENV_SECRETS_KMS_KEY: {'Fn::GetAtt': [ids['key'], 'Arn']},
        },
        'sweep': {**stores, resources.ENV_OUTBOUND_QUEUE_URL: {'Ref': ids['outbound_queue']}},
        'sender': {
            **stores,
            **tuning,
            **channels,
            resources.ENV_OWN_DOMAINS: domains,
            resources.ENV_SES_CONFIGURATION_SET: {'Ref': ids['configuration_set']},
            resources.ENV_OUTBOUND_MAX_RECEIVES: '5',  # the queue's maxReceiveCount: its last try records `failed`
        },
        'feedback': stores,
    }
    for name, variables in expected.items():
        # When reading the function's environment
        found = _variables(t, name)
        # Then its resource variables point at this stack's resources, and Powertools names its service
        assert {k: v for k, v in found.items() if not k.startswith('POWERTOOLS_')} == variables, name
        assert found['POWERTOOLS_SERVICE_NAME'] == SERVICES[name]
        assert found['POWERTOOLS_METRICS_NAMESPACE'] == 'Inboxdesk'


SETTINGS_OF = {  # the loader each handler calls when Lambda imports it
    'inbound': config.inbound_settings,
    'api': config.api_settings,
    'sweep': config.api_settings,
    'sender': config.outbound_settings,
    'feedback': lambda: SimpleNamespace(storage=config.feedback_settings()),
}


def test_every_function_passes_the_cold_start_settings_check_with_its_environment(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given each function's environment as Lambda would see it (references resolved to names)
    t = synthesized.template
    for name in HANDLERS:
        for key in _READ_VARIABLES:
            monkeypatch.delenv(key, raising=False)
        for key, value in _variables(t, name).items():
            reference = value if isinstance(value, str) else value.get('Ref') or value['Fn::GetAtt'][0]
            monkeypatch.setenv(key, value if isinstance(value, str) else f'resolved-{reference}')
        config.clear_settings()
        try:
            # When the function reads its own settings (its handler does it when Lambda imports it)
            storage = SETTINGS_OF[name]().storage
        finally:
            config.clear_settings()
        # Then nothing required is missing, and the table and bucket are this stack's
        assert storage.table_name.startswith('resolved-StorageTable'), name
        assert storage.mail_bucket.startswith('resolved-StorageMailBucket'), name
        # And mail bodies are split at the same size by every function that stores messages
        assert storage.inline_body_limit == 4096
    # And only inbound publishes events, to the bus; its own domains are the creation-address domains
    assert resources.ENV_EVENT_BUS not in _variables(t, 'api')
    assert _variables(t, 'inbound')[resources.ENV_OWN_DOMAINS].split(',') == MAIL_DOMAINS


def test_iam_grants_no_wildcard_actions_and_no_managed_policies(synthesized: Synthesized) -> None:
    # Given every IAM policy of the stack
    t = synthesized.template
    for policy_id, policy in of_type(t, 'AWS::IAM::Policy').items():
        for statement in props(policy)['PolicyDocument']['Statement']:
            # Then no action is a wildcard, and only X-Ray (no resource-level permissions) gets Resource "*"
            assert not [a for a in as_list(statement['Action']) if '*' in a], policy_id
            if statement['Resource'] == '*':
                assert all(a.startswith('xray:') for a in as_list(statement['Action'])), policy_id
    # And no function role carries an AWS-managed policy
    for name in HANDLERS:
        role = t['Resources'][_role_id(_function(t, name)[1])]
        assert not props(role).get('ManagedPolicyArns')


def test_inbound_role_is_least_privilege(synthesized: Synthesized) -> None:
    # Given the inbound function's role
    t = synthesized.template
    ids = _ids(t)
    statements = statements_of_role(t, _role_id(_function(t, 'inbound')[1]))
    # Then S3 reads are limited to raw/; writes, and deletes (cleaning up after a duplicate), to attachments/
    # and bodies/; nothing else on S3 (no listing, no version deletes)
    s3_actions = {a for s in statements for a in as_list(s['Action']) if a.startswith('s3:')}
    assert s3_actions == {'s3:GetObject', 's3:PutObject', 's3:DeleteObject'}
    assert _prefixes(statements, 's3:GetObject', ids['bucket']) == ['/raw/*']
    assert _prefixes(statements, 's3:PutObject', ids['bucket']) == ['/attachments/*', '/bodies/*']
    assert _prefixes(statements, 's3:DeleteObject', ids['bucket']) == ['/attachments/*', '/bodies/*']
    # And events go to our bus only, the table and its indexes are the only DynamoDB resources, no Scan
    assert resources_for(statements, 'events:PutEvents') == [{'Fn::GetAtt': [ids['bus'], 'Arn']}]
    assert sorted(str(arn_suffix(r, ids['table'])) for r in resources_for(statements, 'dynamodb:Query')) == [
        '',
        '/index/*',
    ]
    assert not resources_for(statements, 'dynamodb:Scan')
    # And KMS use is limited to the stack's key, and SQS to consuming the ingest queue, queueing
    # acknowledgements on the reply queue, and putting a mail the table refuses straight on its DLQ
    assert {str(r) for r in resources_for(statements, 'kms:Decrypt')} == {str({'Fn::GetAtt': [ids['key'], 'Arn']})}
    assert resources_for(statements, 'sqs:ReceiveMessage') == [{'Fn::GetAtt': [ids['ingest_queue'], 'Arn']}]
    assert sorted(str(r) for r in resources_for(statements, 'sqs:SendMessage')) == sorted(
        str({'Fn::GetAtt': [ids[queue], 'Arn']}) for queue in ('outbound_queue', 'ingest_dlq')
    )


def test_api_role_reads_what_it_links_to_writes_uploads_and_sends_to_the_outbound_queue(
    synthesized: Synthesized,
) -> None:
    # Given the api function's role
    t = synthesized.template
    ids = _ids(t)
    statements = statements_of_role(t, _role_id(_function(t, 'api')[1]))
    # Then it reads (and so presigns downloads of) attachments stored by ingestion or uploaded by agents and
    # large bodies; raw mail stays out of reach (an unreadable mail's `original.eml` is a copy under attachments/)
    s3_actions = {a for s in statements for a in as_list(s['Action']) if a.startswith('s3:')}
    assert s3_actions == {'s3:GetObject', 's3:PutObject', 's3:ListBucket'}
    assert _prefixes(statements, 's3:GetObject', ids['bucket']) == ['/attachments/*', '/bodies/*']
    # And it writes (and so presigns uploads to) agents' uploads and large reply bodies only: it can neither
    # overwrite the attachments of received mail nor write raw mail
    assert _prefixes(statements, 's3:PutObject', ids['bucket']) == ['/attachments/uploads/*', '/bodies/*']
    # And it may list the bucket's keys (not read raw mail), so that checking for an upload that has not
    # arrived yet answers 404 (a 400 for the agent) instead of 403 (a 500)
    assert _prefixes(statements, 's3:ListBucket', ids['bucket']) == ['']
    # And it may put reply jobs on the outbound queue and nowhere else, and publishes no events
    assert resources_for(statements, 'sqs:SendMessage') == [{'Fn::GetAtt': [ids['outbound_queue'], 'Arn']}]
    assert not resources_for(statements, 'sqs:ReceiveMessage')
    assert not resources_for(statements, 'events:PutEvents')


def test_uploads_prefix_is_where_the_api_puts_agents_uploads() -> None:
    # Given the key the data layer gives an agent's upload
    from inboxdesk.dal import mail_store
    from infra.constructs.api import UPLOAD_PREFIX

    key = mail_store.upload_key('01JUPLOAD')
    # Then it is under the prefix the API role may write, and that prefix is inside attachments/
    assert key.startswith(UPLOAD_PREFIX)
    assert UPLOAD_PREFIX.startswith(resources.ATTACHMENT_PREFIX)


def test_sweep_role_reads_messages_and_sends_reply_jobs_only(synthesized: Synthesized) -> None:
    # Given the reply sweep's role
    t = synthesized.template
    ids = _ids(t)
    statements = statements_of_role(t, _role_id(_function(t, 'sweep')[1]))
    # Then it reads large bodies (a reply's message is read back to check it is still queued) and writes nothing
    s3_actions = {a for s in statements for a in as_list(s['Action']) if a.startswith('s3:')}
    assert s3_actions == {'s3:GetObject'}
    assert _prefixes(statements, 's3:GetObject', ids['bucket']) == ['/bodies/*']
    # And it queries and deletes outbox items on the table and its indexes only, never scans
    for action in ('dynamodb:Query', 'dynamodb:DeleteItem'):
        assert _prefixes(statements, action, ids['table']) == ['', '/index/*']
    assert not resources_for(statements, 'dynamodb:Scan')
    # And it sends reply jobs to the outbound queue, with the stack's key, and publishes no events
    assert resources_for(statements, 'sqs:SendMessage') == [{'Fn::GetAtt': [ids['outbound_queue'], 'Arn']}]
    assert {str(r) for r in resources_for(statements, 'kms:GenerateDataKey')} == {
        str({'Fn::GetAtt': [ids['key'], 'Arn']})
    }
    assert not resources_for(statements, 'events:PutEvents')


def test_alarms_watch_dead_letter_queues_and_function_errors(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    t = synthesized.template
    ids = _ids(t)
    alarms = [props(a) for a in of_type(t, 'AWS::CloudWatch::Alarm').values()]
    # Then every alarm notifies the alarm topic
    assert alarms
    for alarm in alarms:
        assert alarm['AlarmActions'] == [{'Ref': ids['alarm_topic']}]
    # And one fires as soon as a message is in each DLQ
    dlq_alarms = {
        a['Dimensions'][0]['Value']['Fn::GetAtt'][0]: a
        for a in alarms
        if a['MetricName'] == 'ApproximateNumberOfMessagesVisible'
    }
    assert set(dlq_alarms) == {ids['ingest_dlq'], ids['outbound_dlq'], ids['feedback_dlq'], ids['sweep_dlq']}
    for alarm in dlq_alarms.values():
        assert alarm['Namespace'] == 'AWS/SQS'
        assert alarm['Threshold'] == 0
        assert alarm['ComparisonOperator'] == 'GreaterThanThreshold'
    # And each function's errors raise an alarm
    error_alarms = {a['Dimensions'][0]['Value']['Ref'] for a in alarms if a['MetricName'] == 'Errors'}
    assert error_alarms == {_function(t, name)[0] for name in HANDLERS}
