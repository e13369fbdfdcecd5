import os

import boto3

from tests.support.api import ADMIN, AGENT, call

# One list call per index the API reads (see `dal.table`): each is answered only if its index exists
# on the embedded table with the keys the data layer writes.
LIST_FILTERS = [
    {},
    {'status': 'new'},
    {'queue': 'Q1'},
    {'queue': 'Q1', 'status': 'new'},
    {'assignee': 'a@example.com'},
    {'assignee': 'a@example.com', 'status': 'new'},
    {'customer': 'c@example.org'},
    {'customer': 'c@example.org', 'status': 'new'},
]


def test_every_ticket_list_answers_on_the_embedded_aws(aws):
    # Given the resources the dev runtime and the tests create, and one ticket an agent opened
    assert call('POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': ['s@example.com']})[0]
    status, _, created = call(
        'POST', '/tickets', claims=AGENT, body={'customer': 'c@example.org', 'title': 'Hi', 'text': 'x'}
    )
    assert status == 201, created
    # When an agent lists tickets with each filter the API offers
    for filters in LIST_FILTERS:
        status, _, page = call('GET', '/tickets', claims=AGENT, query=filters)
        # Then every list answers (no index is missing or keyed differently)
        assert status == 200, (filters, page)
    mine = call('GET', '/tickets', claims=AGENT, query={'customer': 'c@example.org'})[2]
    assert [t['id'] for t in mine['items']] == [created['ticket']['id']]


def test_the_mail_bucket_and_queues_the_functions_are_given_accept_work(aws):
    # Given the bucket and queues named in the functions' environment
    s3, sqs = boto3.client('s3'), boto3.client('sqs')
    # When a raw mail is stored and a job is queued on each queue, Then each reads back
    s3.put_object(Bucket=os.environ['MAIL_BUCKET'], Key='raw/probe', Body=b'Subject: x\n\nx')
    assert s3.get_object(Bucket=os.environ['MAIL_BUCKET'], Key='raw/probe')['Body'].read() == b'Subject: x\n\nx'
    for variable in ('INGEST_QUEUE_URL', 'OUTBOUND_QUEUE_URL'):
        sqs.send_message(QueueUrl=os.environ[variable], MessageBody='{}')
        assert sqs.receive_message(QueueUrl=os.environ[variable]).get('Messages'), variable
