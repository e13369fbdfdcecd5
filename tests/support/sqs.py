"""SQS events as Lambda's event source mapping delivers them (the shapes of `inboxdesk_cli.aws_events`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from inboxdesk_cli.aws_events import LambdaContext, build_sqs_event


def sqs_event(*bodies: dict[str, Any] | str, queue: str, receive_count: int = 1) -> dict[str, Any]:
    messages: list[Any] = [
        {
            'MessageId': str(uuid.uuid4()),
            'ReceiptHandle': 'handle',
            'Body': body if isinstance(body, str) else json.dumps(body),
            'Attributes': {'ApproximateReceiveCount': str(receive_count), 'SentTimestamp': '1700000000000'},
        }
        for body in bodies
    ]
    return build_sqs_event(messages, queue_arn=f'arn:aws:sqs:eu-west-1:123456789012:{queue}', region='eu-west-1')


def context(name: str) -> Any:
    return LambdaContext(function_name=name)
