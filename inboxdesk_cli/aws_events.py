"""AWS's event shapes, as Lambda's triggers deliver them: the SQS event and the context object, an API
Gateway HTTP API (payload v2) event as the JWT authorizer passes it, the notice an SES receipt rule
posts through SNS, SES's delivery event (also through SNS), and a scheduled event.

The dev runtime feeds the handlers with these, and so do the tests (through `tests/support/`): both
hand the handlers the same shapes that AWS does.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from inboxdesk.notices import SES_VERDICT_FIELDS

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

SES_SUBJECT = 'Amazon SES Email Receipt Notification'


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = '$LATEST'
    timeout_seconds: int = 30
    region: str = 'eu-west-1'
    account: str = '123456789012'
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f'arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}'

    @property
    def log_group_name(self) -> str:
        return f'/aws/lambda/{self.function_name}'

    @property
    def log_stream_name(self) -> str:
        return f'local/[{self.function_version}]{self.aws_request_id}'

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _message_attributes(message: MessageTypeDef) -> dict[str, Any]:
    """SQS's MessageAttributes in the lower-camel shape Lambda's event uses."""
    shaped: dict[str, Any] = {}
    for name, value in message.get('MessageAttributes', {}).items():
        shaped[name] = {
            'stringValue': value.get('StringValue'),
            'binaryValue': value.get('BinaryValue'),
            'stringListValues': list(value.get('StringListValues', [])),
            'binaryListValues': list(value.get('BinaryListValues', [])),
            'dataType': value.get('DataType'),
        }
    return shaped


def build_sqs_event(messages: list[MessageTypeDef], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda passes to a function subscribed to an SQS queue."""
    return {
        'Records': [
            {
                'messageId': message['MessageId'],
                'receiptHandle': message['ReceiptHandle'],
                'body': message['Body'],
                'attributes': dict(message.get('Attributes', {})),
                'messageAttributes': _message_attributes(message),
                'md5OfBody': message.get('MD5OfBody', ''),
                'eventSource': 'aws:sqs',
                'eventSourceARN': queue_arn,
                'awsRegion': region,
            }
            for message in messages
        ]
    }


def claims_as_authorizer_context(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer puts them into the event: every value a string."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list | tuple):
            out[name] = '[' + ' '.join(str(v) for v in value) + ']'
        elif isinstance(value, bool):
            out[name] = 'true' if value else 'false'
        else:
            out[name] = str(value)
    return out


def api_gateway_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, claims: dict[str, Any] | None, source_ip: str
) -> dict[str, Any]:
    """An HTTP API payload v2 event, as API Gateway builds it."""
    url = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == 'cookie':
            cookies += [c.strip() for c in value.split(';') if c.strip()]
            continue
        merged[lname] = f'{merged[lname]},{value}' if lname in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f'{query[name]},{value}' if name in query else value
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        'accountId': '123456789012',
        'apiId': 'inboxdesk-dev',
        'domainName': merged.get('host', 'localhost'),
        'domainPrefix': merged.get('host', 'localhost').split('.', 1)[0],
        'http': {
            'method': method,
            'path': url.path or '/',
            'protocol': 'HTTP/1.1',
            'sourceIp': source_ip,
            'userAgent': merged.get('user-agent', ''),
        },
        'requestId': str(uuid.uuid4()),
        'routeKey': '$default',
        'stage': '$default',
        'time': now.strftime('%d/%b/%Y:%H:%M:%S +0000'),
        'timeEpoch': int(now.timestamp() * 1000),
    }
    if claims is not None:
        context['authorizer'] = {'jwt': {'claims': claims_as_authorizer_context(claims), 'scopes': None}}
    event: dict[str, Any] = {
        'version': '2.0',
        'routeKey': '$default',
        'rawPath': url.path or '/',
        'rawQueryString': url.query,
        'headers': merged,
        'requestContext': context,
        'isBase64Encoded': False,
    }
    if cookies:
        event['cookies'] = cookies
    if query:
        event['queryStringParameters'] = query
    if body:
        try:
            event['body'] = body.decode('utf-8')
        except UnicodeDecodeError:
            event['body'] = base64.b64encode(body).decode('ascii')
            event['isBase64Encoded'] = True
    return event


def _iso(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def ses_receipt_notice(
    *,
    bucket: str,
    key: str,
    recipients: Sequence[str],
    source: str,
    ses_message_id: str | None = None,
    topic_arn: str = 'arn:aws:sns:eu-west-1:123456789012:inboxdesk-inbound-local',
    common_headers: Mapping[str, Any] | None = None,
    verdicts: Mapping[str, str] | None = None,
    received_at: datetime | None = None,
    raw_delivery: bool = False,
) -> dict[str, Any]:
    """The SQS body SES -> SNS -> SQS produces for mail stored by an S3 action (the shape of AWS's
    documented example). `ses_message_id` defaults to the last part of `key`; every verdict defaults to
    PASS. With `raw_delivery` the SES JSON itself (SNS raw message delivery on)."""
    message_id = ses_message_id or key.rsplit('/', 1)[-1]
    at = _iso(received_at)
    verdict_status = dict.fromkeys(SES_VERDICT_FIELDS, 'PASS') | dict(verdicts or {})
    receipt: dict[str, Any] = {
        'timestamp': at,
        'processingTimeMillis': 420,
        'recipients': list(recipients),
        **{field: {'status': verdict_status[name]} for name, field in SES_VERDICT_FIELDS.items()},
        'action': {
            'type': 'S3',
            'topicArn': topic_arn,
            'bucketName': bucket,
            'objectKeyPrefix': key.rsplit('/', 1)[0] + '/' if '/' in key else '',
            'objectKey': key,
        },
    }
    ses = {
        'notificationType': 'Received',
        'mail': {
            'timestamp': at,
            'source': source,
            'messageId': message_id,
            'destination': list(recipients),
            'headersTruncated': False,
            'headers': [],
            'commonHeaders': dict(common_headers or {}),
        },
        'receipt': receipt,
    }
    return ses if raw_delivery else sns_notification(ses, topic_arn=topic_arn, subject=SES_SUBJECT, at=at)


def sns_notification(message: Mapping[str, Any], *, topic_arn: str, subject: str | None, at: str) -> dict[str, Any]:
    """The SQS body of an SNS notification carrying `message` (raw message delivery off)."""
    region = topic_arn.split(':')[3] if topic_arn.count(':') >= 5 else 'eu-west-1'
    notification = {
        'Type': 'Notification',
        'MessageId': str(uuid.uuid4()),
        'TopicArn': topic_arn,
        'Subject': subject,
        'Message': json.dumps(message),
        'Timestamp': at,
        'SignatureVersion': '1',
        'Signature': 'EXAMPLE',
        'SigningCertURL': f'https://sns.{region}.amazonaws.com/SimpleNotificationService-example.pem',
        'UnsubscribeURL': f'https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:1',
    }
    return {k: v for k, v in notification.items() if v is not None}  # SES's events come without a Subject


def ses_delivery_event(
    *,
    ses_message_id: str,
    source: str,
    recipients: Sequence[str],
    configuration_set: str,
    region: str,
    account: str = '123456789012',
    sent_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> dict[str, Any]:
    """SES's event-publishing `Delivery` event (the documented example's shape) for a mail SES sent."""
    return {
        'eventType': 'Delivery',
        'mail': {
            'timestamp': _iso(sent_at),
            'source': source,
            'sourceArn': f'arn:aws:ses:{region}:{account}:identity/{source.rpartition("@")[2]}',
            'sendingAccountId': account,
            'messageId': ses_message_id,
            'destination': list(recipients),
            'headersTruncated': False,
            'headers': [],
            'commonHeaders': {},
            'tags': {'ses:configuration-set': [configuration_set], 'ses:source-ip': ['127.0.0.1']},
        },
        'delivery': {
            'timestamp': _iso(delivered_at),
            'processingTimeMillis': 120,
            'recipients': list(recipients),
            'smtpResponse': '250 2.6.0 Message received',
            'reportingMTA': 'a8-70.smtp-out.amazonses.com',
        },
    }


def scheduled_event(*, rule_name: str, region: str, account: str, at: datetime | None = None) -> dict[str, Any]:
    """The event a scheduled EventBridge rule passes to its Lambda target."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    return {
        'version': '0',
        'id': str(uuid.uuid4()),
        'detail-type': 'Scheduled Event',
        'source': 'aws.events',
        'account': account,
        'time': moment.strftime('%Y-%m-%dT%H:%M:%SZ'),
        'region': region,
        'resources': [f'arn:aws:events:{region}:{account}:rule/{rule_name}'],
        'detail': {},
    }
