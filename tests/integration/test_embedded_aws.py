import boto3

from inboxdesk import resources as r


def test_embedded_aws_has_every_resource_the_functions_read(aws):
    # Given the resources created on the moto server, When the functions look them up by name,
    # Then the table (with every GSI), the bucket and the queues are there
    table = boto3.client('dynamodb').describe_table(TableName=r.LOCAL_NAMES[r.ENV_TABLE])['Table']
    assert sorted(i['IndexName'] for i in table['GlobalSecondaryIndexes']) == list(r.TABLE_INDEXES)
    assert boto3.client('s3').head_bucket(Bucket=r.LOCAL_NAMES[r.ENV_MAIL_BUCKET])
    assert boto3.client('sqs').get_queue_url(QueueName=r.LOCAL_NAMES['INGEST_QUEUE'])['QueueUrl']
