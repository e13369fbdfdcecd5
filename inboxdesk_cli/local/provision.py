"""Create on the embedded AWS the resources the CDK app declares, under `resources.LOCAL_NAMES`."""

from __future__ import annotations

import os
import secrets
from typing import Any

import boto3

from inboxdesk import resources as r

OUTBOUND_MAX_RECEIVES = 5  # as the stack's redrive policy: then the DLQ


def local_environment(endpoint_url: str) -> dict[str, str]:
    """The environment variables the functions read, pointing at the embedded AWS."""
    account = '123456789012'
    region = os.environ.get('AWS_DEFAULT_REGION', 'eu-west-1')
    queue_base = f'{endpoint_url}/{account}'
    return {
        'AWS_ENDPOINT_URL': endpoint_url,
        'AWS_DEFAULT_REGION': region,
        'AWS_ACCESS_KEY_ID': 'testing',
        'AWS_SECRET_ACCESS_KEY': 'testing',  # noqa: S105 - moto's fixed fake credentials
        r.ENV_TABLE: r.LOCAL_NAMES[r.ENV_TABLE],
        r.ENV_MAIL_BUCKET: r.LOCAL_NAMES[r.ENV_MAIL_BUCKET],
        r.ENV_INGEST_QUEUE_URL: f'{queue_base}/{r.LOCAL_NAMES["INGEST_QUEUE"]}',
        r.ENV_INGEST_DLQ_URL: f'{queue_base}/{r.LOCAL_NAMES["INGEST_DLQ"]}',
        r.ENV_OUTBOUND_QUEUE_URL: f'{queue_base}/{r.LOCAL_NAMES["OUTBOUND_QUEUE"]}',
        r.ENV_EVENT_BUS: r.LOCAL_NAMES[r.ENV_EVENT_BUS],
        r.ENV_CHANNEL_SECRET_PREFIX: r.LOCAL_NAMES[r.ENV_CHANNEL_SECRET_PREFIX],
        r.ENV_SES_CONFIGURATION_SET: r.LOCAL_NAMES[r.ENV_SES_CONFIGURATION_SET],
        r.ENV_REPLY_TOKEN_SECRET: r.LOCAL_NAMES[r.ENV_REPLY_TOKEN_SECRET],
        r.ENV_OUTBOUND_MAX_RECEIVES: str(OUTBOUND_MAX_RECEIVES),
        r.ENV_CURSOR_SECRET: r.LOCAL_NAMES[r.ENV_CURSOR_SECRET],  # Secrets Manager takes a name for an ARN
        'POWERTOOLS_METRICS_NAMESPACE': 'Inboxdesk',
    }


def create_resources() -> dict[str, Any]:
    """Create table, bucket, queues (with DLQs), topics, event bus, configuration set and the reply-token key;
    returns the queues' URLs and the topics' ARNs."""
    names = r.LOCAL_NAMES
    dynamodb = boto3.client('dynamodb')
    keys = [r.TABLE_HASH_KEY, r.TABLE_RANGE_KEY] + [f'{i}{k}' for i in r.TABLE_INDEXES for k in ('pk', 'sk')]
    dynamodb.create_table(
        TableName=names[r.ENV_TABLE],
        BillingMode='PAY_PER_REQUEST',
        AttributeDefinitions=[{'AttributeName': k, 'AttributeType': 'S'} for k in keys],
        KeySchema=[
            {'AttributeName': r.TABLE_HASH_KEY, 'KeyType': 'HASH'},
            {'AttributeName': r.TABLE_RANGE_KEY, 'KeyType': 'RANGE'},
        ],
        GlobalSecondaryIndexes=[
            {
                'IndexName': index,
                'KeySchema': [
                    {'AttributeName': f'{index}pk', 'KeyType': 'HASH'},
                    {'AttributeName': f'{index}sk', 'KeyType': 'RANGE'},
                ],
                'Projection': {'ProjectionType': 'ALL'},
            }
            for index in r.TABLE_INDEXES
        ],
    )
    dynamodb.update_time_to_live(
        TableName=names[r.ENV_TABLE],
        TimeToLiveSpecification={'Enabled': True, 'AttributeName': r.TABLE_TTL_ATTRIBUTE},
    )
    region: Any = boto3.session.Session().region_name or 'eu-west-1'
    boto3.client('s3').create_bucket(
        Bucket=names[r.ENV_MAIL_BUCKET], CreateBucketConfiguration={'LocationConstraint': region}
    )
    sqs = boto3.client('sqs')
    created: dict[str, Any] = {}
    for queue, dlq in (
        ('INGEST_QUEUE', 'INGEST_DLQ'),
        ('OUTBOUND_QUEUE', 'OUTBOUND_DLQ'),
        ('FEEDBACK_QUEUE', 'FEEDBACK_DLQ'),
    ):
        dlq_url = sqs.create_queue(QueueName=names[dlq])['QueueUrl']
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
        redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{OUTBOUND_MAX_RECEIVES}"}}'
        created[queue] = sqs.create_queue(
            QueueName=names[queue], Attributes={'RedrivePolicy': redrive, 'VisibilityTimeout': '30'}
        )['QueueUrl']
        created[dlq] = dlq_url
    sns = boto3.client('sns')
    for topic in ('INBOUND_TOPIC', 'FEEDBACK_TOPIC'):  # SES receipt notices; SES events of the configuration set
        created[topic] = sns.create_topic(Name=names[topic])['TopicArn']
    boto3.client('events').create_event_bus(Name=names[r.ENV_EVENT_BUS])
    boto3.client('sesv2').create_configuration_set(ConfigurationSetName=names[r.ENV_SES_CONFIGURATION_SET])
    boto3.client('secretsmanager').create_secret(
        Name=names[r.ENV_REPLY_TOKEN_SECRET], SecretString=secrets.token_hex(32), Description='reply-token HMAC key'
    )
    # The stack generates its keys; the dev runtime makes a fresh one per embedded AWS.
    created[r.ENV_CURSOR_SECRET] = boto3.client('secretsmanager').create_secret(
        Name=names[r.ENV_CURSOR_SECRET], SecretString=secrets.token_urlsafe(32)
    )['ARN']
    return created
