"""SES's delivery events on one machine. moto keeps the mail SES "sends" but never publishes an event for it,
so the dev runtime does what SES and the configuration set would: for each mail that appears in moto's
SES outbox (`/moto-api/data.json`), a `Delivery` event in SES's JSON, wrapped in the SNS notification the
stack's topic delivers, goes on the feedback queue, where the feedback function marks the reply
`delivered`."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from inboxdesk_cli.aws_events import ses_delivery_event, sns_notification
from inboxdesk_cli.local.background import BackgroundLoop

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger('inboxdesk_dev')


def ses_outbox(endpoint: str) -> list[dict[str, Any]]:
    """The mail moto's SES has accepted, oldest first: each with `id`, `source`, `destinations`, `raw_data`."""
    with urllib.request.urlopen(f'{endpoint}/moto-api/data.json', timeout=10) as answer:  # noqa: S310 - our moto
        data = json.load(answer)
    raw = data.get('ses', {}).get('RawMessage', [])
    return [m for region in raw.values() for m in region] if isinstance(raw, dict) else list(raw)


def recipients_of(mail: dict[str, Any]) -> list[str]:
    """The addresses a mail in moto's SES outbox went to, once each (moto lists some twice, with names)."""
    return list(dict.fromkeys(parseaddr(str(d))[1] for d in mail.get('destinations') or []))


@dataclass
class SesDeliveryReporter(BackgroundLoop):
    """Every `every_seconds`, a `Delivery` event for each mail moto's SES accepted since the last look."""

    sqs: SQSClient
    endpoint: str  # the embedded AWS
    feedback_queue_url: str
    topic_arn: str
    configuration_set: str
    region: str
    every_seconds: float = 1.0
    _reported: set[str] = field(default_factory=set, repr=False)

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.report_new()
            except Exception:  # keep going: the embedded AWS may be briefly unreachable
                logger.exception('SES delivery events: reading the SES outbox failed')

    def report_new(self) -> int:
        """Post the events of the mail not reported yet; how many."""
        fresh = [m for m in ses_outbox(self.endpoint) if m.get('id') and m['id'] not in self._reported]
        for mail in fresh:
            event = ses_delivery_event(
                ses_message_id=mail['id'],
                source=str(mail.get('source') or ''),
                recipients=recipients_of(mail),
                configuration_set=self.configuration_set,
                region=self.region,
            )
            at = datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
            body = sns_notification(event, topic_arn=self.topic_arn, subject=None, at=at)
            self.sqs.send_message(QueueUrl=self.feedback_queue_url, MessageBody=json.dumps(body))
            self._reported.add(mail['id'])
        return len(fresh)
