"""What the ingest queue carries, in AWS's exact shapes (the dev runtime and the tests build SES's notice
with `inboxdesk_cli.aws_events.ses_receipt_notice`).

SQS record bodies understood by `parse_notice`:
1. an SES receipt notification delivered by SNS (raw message delivery off): the SNS envelope with
   the SES JSON as a string in `Message`; with raw message delivery on, the SES JSON itself;
2. a poller job: `{"kind": "mailbox", "bucket", "key", "mailbox_id"}`;
3. S3 event notifications (`Records`), and S3's `s3:TestEvent`, which is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from inboxdesk.models import InboundNotice, Verdicts

# verdict -> its field in SES's receipt
SES_VERDICT_FIELDS = {
    'spam': 'spamVerdict',
    'virus': 'virusVerdict',
    'spf': 'spfVerdict',
    'dkim': 'dkimVerdict',
    'dmarc': 'dmarcVerdict',
}


class UnknownNoticeError(ValueError):
    """The record is none of the shapes above: a poison record (it ends in the DLQ)."""


def mailbox_job(*, bucket: str, key: str, mailbox_id: str) -> dict[str, Any]:
    """The job a mailbox poller puts on the ingest queue after storing the raw mail."""
    return {'kind': 'mailbox', 'bucket': bucket, 'key': key, 'mailbox_id': mailbox_id}


def _from_ses(ses: Mapping[str, Any]) -> InboundNotice | None:
    if ses.get('notificationType') != 'Received':
        return None
    receipt = ses.get('receipt') or {}
    action = receipt.get('action') or {}
    if action.get('type') != 'S3' or not action.get('bucketName') or not action.get('objectKey'):
        raise UnknownNoticeError('SES notice without an S3 action: the raw mail is not stored')
    mail = ses.get('mail') or {}
    verdicts = Verdicts(
        **{name: (receipt.get(field) or {}).get('status') for name, field in SES_VERDICT_FIELDS.items()}
    )
    return InboundNotice(
        source='ses',
        bucket=str(action['bucketName']),
        key=str(action['objectKey']),
        ses_message_id=mail.get('messageId'),
        recipients=tuple(str(r) for r in receipt.get('recipients') or mail.get('destination') or ()),
        verdicts=verdicts,
        timestamp=mail.get('timestamp'),
    )


def parse_notice(body: Any) -> InboundNotice | None:
    """The notice in one SQS record body (a dict, or its JSON text); None for records to skip
    (S3's test event, SES notices other than `Received`). UnknownNoticeError for anything else."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise UnknownNoticeError('record body is not JSON') from exc
    if not isinstance(body, dict):
        raise UnknownNoticeError('record body is not a JSON object')
    if body.get('Type') == 'Notification' and isinstance(body.get('Message'), str):
        try:
            inner = json.loads(body['Message'])
        except ValueError as exc:
            raise UnknownNoticeError('SNS message is not JSON') from exc
        return parse_notice(inner)
    if 'notificationType' in body:
        return _from_ses(body)
    if body.get('kind') == 'mailbox':
        if not body.get('bucket') or not body.get('key'):
            raise UnknownNoticeError('mailbox job without bucket or key')
        return InboundNotice(
            source='mailbox', bucket=str(body['bucket']), key=str(body['key']), mailbox_id=body.get('mailbox_id')
        )
    if body.get('Event') == 's3:TestEvent':
        return None
    records = body.get('Records')
    if isinstance(records, list) and len(records) == 1 and 's3' in records[0]:
        s3 = records[0]['s3']
        return InboundNotice(
            source='mailbox', bucket=str(s3['bucket']['name']), key=unquote_plus(str(s3['object']['key']))
        )
    raise UnknownNoticeError('unknown record shape')
