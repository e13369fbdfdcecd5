"""Dead letters: a queue record that can never succeed is put on its DLQ at once, with the reason, rather than
retried until SQS moves it there (which delays the mail behind it and says nothing of why)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_client: SQSClient | None = None


def _sqs() -> SQSClient:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client('sqs')
    return _client


def send_dead_letter(queue_url: str, body: str, *, reason: str) -> None:
    """The record's body as it came (so a replay sends it back unchanged), the reason as a message attribute."""
    _sqs().send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        MessageAttributes={'reason': {'DataType': 'String', 'StringValue': reason[:1000] or 'unknown'}},
    )
