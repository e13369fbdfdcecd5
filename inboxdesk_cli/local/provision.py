"""Create on the embedded AWS the resources the CDK app declares, under `resources.LOCAL_NAMES`."""

from __future__ import annotations

import os
import secrets
from typing import Any

import boto3

from inboxdesk import resources as r


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
        r.ENV_CURSOR_SECRET: r.LOCAL_NAMES[r.ENV_CURSOR_SECRET],  # Secrets Manager takes a name for an ARN
        'POWERTOOLS_METRICS_NAMESPACE': 'Inboxdesk',
    }


def create_resources() -> dict[str, Any]:
    """Create table, bucket, queues (with DLQs), topic and event bus; returns their ARNs/URLs."""
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
    region: Any = boto3.session.Session().region_name or 'eu-west-1'
    boto3.client('s3').create_bucket(
        Bucket=names[r.ENV_MAIL_BUCKET], CreateBucketConfiguration={'LocationConstraint': region}
    )
    sqs = boto3.client('sqs')
    created: dict[str, Any] = {}
    for queue, dlq in (('INGEST_QUEUE', 'INGEST_DLQ'), ('OUTBOUND_QUEUE', 'OUTBOUND_DLQ')):
        dlq_url = sqs.create_queue(QueueName=names[dlq])['QueueUrl']
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
        redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}'
        created[queue] = sqs.create_queue(
            QueueName=names[queue], Attributes={'RedrivePolicy': redrive, 'VisibilityTimeout': '30'}
        )['QueueUrl']
        created[dlq] = dlq_url
    created['INBOUND_TOPIC'] = boto3.client('sns').create_topic(Name=names['INBOUND_TOPIC'])['TopicArn']
    boto3.client('events').create_event_bus(Name=names[r.ENV_EVENT_BUS])
    # The stack generates its keys; the dev runtime makes a fresh one per embedded AWS.
    created[r.ENV_CURSOR_SECRET] = boto3.client('secretsmanager').create_secret(
        Name=names[r.ENV_CURSOR_SECRET], SecretString=secrets.token_urlsafe(32)
    )['ARN']
    return created
