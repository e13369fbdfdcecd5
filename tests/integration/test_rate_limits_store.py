"""Rate limits against the embedded AWS's DynamoDB, with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from inboxdesk import resources
from inboxdesk.logic.rate_limits import allow_automatic
from tests.integration.test_api_reply_threading import DynamoDBCalls


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_a_looping_responder_is_cut_off_and_let_back_as_the_window_slides(aws):
    clock = Clock()
    # Given an autoresponder that answers every mail at once, on one ticket, one mail a second
    outcomes = []
    for _ in range(12):
        outcomes.append(allow_automatic('Bot+loop@Responder.test', 'T1', 'auto_reply', clock=clock))
        clock.advance(seconds=1)
    # Then the first 10 go, the rest are refused with the reason (and the spelling of the address does not matter)
    assert outcomes[:10] == [None] * 10
    assert outcomes[10:] == ['rate limit: 10 automatic mails on this ticket in 10 minutes'] * 2
    assert allow_automatic('bot@responder.test', 'T1', 'auto_reply', clock=clock) is not None
    # When 10 minutes have passed since the first, Then mail flows again, until the 30-minute limit (15)
    clock.advance(minutes=10)
    allowed = 0
    while allow_automatic('bot@responder.test', 'T1', 'auto_reply', clock=clock) is None:
        allowed += 1
        clock.advance(seconds=1)
    assert allowed == 5


def test_three_acknowledgements_per_customer_in_ten_minutes_across_tickets(aws):
    clock = Clock()
    results = [allow_automatic('jane@customer.test', f'T{i}', 'acknowledgement', clock=clock) for i in range(4)]
    assert results[:3] == [None] * 3
    assert results[3] == 'rate limit: 3 automatic mails acknowledgements in 10 minutes'
    # A different customer is not affected
    assert allow_automatic('bob@customer.test', 'T9', 'acknowledgement', clock=clock) is None


def test_counters_expire_through_the_table_ttl(aws):
    clock = Clock()
    allow_automatic('jane@customer.test', 'T1', 'auto_reply', clock=clock)
    client = boto3.client('dynamodb')
    table = resources.LOCAL_NAMES[resources.ENV_TABLE]
    ttl = client.describe_time_to_live(TableName=table)['TimeToLiveDescription']
    assert ttl == {'TimeToLiveStatus': 'ENABLED', 'AttributeName': resources.TABLE_TTL_ATTRIBUTE}
    [item] = [i for i in client.scan(TableName=table)['Items'] if i['pk']['S'].startswith('RATE#')]
    assert int(item[resources.TABLE_TTL_ATTRIBUTE]['N']) == int((clock.now + timedelta(minutes=600)).timestamp())


def test_a_check_is_one_query_and_one_write_however_much_was_sent(aws):
    from inboxdesk.dal.table import RateMarkItem

    client = RateMarkItem._get_connection().connection.client  # each item class may hold its own connection
    dynamodb_calls = DynamoDBCalls()
    clock = Clock()
    # Given a recipient who already got 40 automatic mails on a ticket in the last ten hours
    for _ in range(40):
        assert allow_automatic('jane@customer.test', 'T1', 'auto_reply', clock=clock) is None
        clock.advance(minutes=14)
    # When one more is checked
    client.meta.events.register('before-call.dynamodb', dynamodb_calls)
    try:
        allow_automatic('jane@customer.test', 'T1', 'auto_reply', clock=clock)
    finally:
        client.meta.events.unregister('before-call.dynamodb', dynamodb_calls)
    # Then it took one Query and one PutItem
    assert dict(dynamodb_calls.calls) == {'Query': 1, 'PutItem': 1}
