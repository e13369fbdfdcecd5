"""An SMTP server (aiosmtpd) that stands in for SES inbound on one machine.

Like an SES receipt rule with an S3 action and an SNS notice: recipients are accepted only when they
are a queue's creation address (case-insensitive, plus-tags ignored), otherwise `550 5.1.1`; on DATA
the raw mail goes to S3 under `raw/<SES-like message id>` (with the trace headers SES prepends), then
the SNS-wrapped SES receipt notification goes to the ingest queue. Mail up to SES's 40 MB is accepted,
with lines of any length (RFC 5321's 1,000 is a limit senders break and SES does not enforce). Every
refusal (a 4xx or 5xx reply, whatever its cause) leaves a line with its reason in the dev log.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime, getaddresses
from typing import TYPE_CHECKING, Any

from inboxdesk import ids
from inboxdesk import resources as r

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger('inboxdesk_dev')

SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
SES_INBOUND_HOST = 'inbound-smtp.local.amazonaws.com'
GTUBE = b'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
EICAR = rb'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
_EICAR_BASE64 = base64.b64encode(EICAR)[:56]  # how an attachment that is the EICAR file starts
_ID_ALPHABET = string.ascii_lowercase + string.digits


def ses_message_id() -> str:
    """An id shaped like SES's inbound message ids (40 lower-case letters and digits)."""
    return ''.join(secrets.choice(_ID_ALPHABET) for _ in range(40))


def verdicts(raw: bytes) -> dict[str, dict[str, str]]:
    """SES's verdicts, computed where it is cheap (GTUBE spam, EICAR virus), PASS otherwise: there is no
    DNS here to check SPF, DKIM or DMARC."""
    spam = 'FAIL' if GTUBE in raw else 'PASS'
    virus = 'FAIL' if EICAR in raw or _EICAR_BASE64 in raw else 'PASS'
    return {
        'spamVerdict': {'status': spam},
        'virusVerdict': {'status': virus},
        'spfVerdict': {'status': 'PASS'},
        'dkimVerdict': {'status': 'PASS'},
        'dmarcVerdict': {'status': 'PASS'},
    }


def stored_mail(raw: bytes, *, mail_from: str, recipient: str, ses_id: str, received: datetime) -> bytes:
    """The raw mail as SES's S3 action stores it: its trace headers prepended, the rest unchanged."""
    newline = b'\r\n' if b'\r\n' in raw[:4096] else b'\n'
    checks = verdicts(raw)
    trace = [
        f'Return-Path: <{mail_from}>',
        f'Received: from localhost by {SES_INBOUND_HOST} with SMTP id {ses_id} for {recipient};'
        f' {format_datetime(received)}',
        f'X-SES-Spam-Verdict: {checks["spamVerdict"]["status"]}',
        f'X-SES-Virus-Verdict: {checks["virusVerdict"]["status"]}',
    ]
    return newline.join(line.encode() for line in trace) + newline + raw


def _common_headers(headers: list[tuple[str, str]], mail_from: str) -> dict[str, Any]:
    first = {name.lower(): value for name, value in reversed(headers)}
    common: dict[str, Any] = {'returnPath': mail_from}
    for key, name in (('from', 'from'), ('replyTo', 'reply-to'), ('to', 'to'), ('cc', 'cc')):
        values = [value for header, value in headers if header.lower() == name]
        if values:
            common[key] = [addr if not label else f'{label} <{addr}>' for label, addr in getaddresses(values)]
    for key, name in (('date', 'date'), ('messageId', 'message-id'), ('subject', 'subject')):
        if name in first:
            common[key] = first[name]
    return common


def build_receipt_notice(
    *,
    raw: bytes,
    ses_id: str,
    mail_from: str,
    recipients: Sequence[str],
    bucket: str,
    object_key: str,
    topic_arn: str,
    received: datetime,
) -> str:
    """The SQS message body SES's receipt rule produces: the SNS notification wrapping SES's JSON
    (built by `inboxdesk_cli.aws_events`, the same builder the handler tests use)."""
    from inboxdesk_cli.aws_events import ses_receipt_notice

    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw)
    headers = [(str(name), str(value)) for name, value in parsed.items()]
    notice = ses_receipt_notice(
        bucket=bucket,
        key=object_key,
        recipients=list(recipients),
        source=mail_from,
        ses_message_id=ses_id,
        topic_arn=topic_arn,
        common_headers=_common_headers(headers, mail_from),
        verdicts={name.removesuffix('Verdict'): v['status'] for name, v in verdicts(raw).items()},
        received_at=received,
    )
    return json.dumps(notice)


@dataclass
class SesInbound:
    """aiosmtpd handler: SES inbound's receipt rule (S3 action + SNS notice to the ingest queue)."""

    s3: S3Client
    sqs: SQSClient
    bucket: str
    queue_url: str
    topic_arn: str
    accepts: Callable[[str], bool]  # is this (normalised) address a creation address?

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        loop = asyncio.get_running_loop()
        try:
            known = await loop.run_in_executor(None, self.accepts, ids.normalise_address(address))
        except Exception:
            logger.exception('smtp: looking up a recipient failed')
            return '451 4.3.0 temporary failure, try again later'
        if not known:
            return f'550 5.1.1 <{address.strip("<>")}>: mailbox unavailable (not the address of any queue)'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode('utf-8', 'surrogateescape')
        loop = asyncio.get_running_loop()
        try:
            ses_id = await loop.run_in_executor(
                None, self.receive, bytes(raw), envelope.mail_from or '', list(envelope.rcpt_tos)
            )
        except Exception:
            logger.exception('smtp: storing a mail failed')
            return '451 4.3.0 temporary failure, try again later'
        return f'250 Ok {ses_id}'

    def receive(self, raw: bytes, mail_from: str, recipients: list[str]) -> str:
        """Store one mail and post its notice; returns the SES-like message id."""
        ses_id = ses_message_id()
        key = f'{r.RAW_MAIL_PREFIX}{ses_id}'
        now = datetime.now(UTC)
        stored = stored_mail(raw, mail_from=mail_from, recipient=recipients[0], ses_id=ses_id, received=now)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=stored)
        notice = build_receipt_notice(
            raw=stored,
            ses_id=ses_id,
            mail_from=mail_from,
            recipients=recipients,
            bucket=self.bucket,
            object_key=key,
            topic_arn=self.topic_arn,
            received=now,
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=notice)
        logger.info('smtp: mail %s received (%d bytes) -> s3://%s/%s', ses_id, len(raw), self.bucket, key)
        return ses_id


def _ses_smtp(handler: SesInbound, **kwargs: Any) -> SMTP:
    """aiosmtpd's SMTP server with SES's limits, logging every refusal it sends."""
    from aiosmtpd.smtp import SMTP

    class SesSmtp(SMTP):
        line_length_limit = SES_MAX_MESSAGE_BYTES  # a line may be as long as the whole mail

        async def push(self, status: Any) -> None:
            text = status.decode('utf-8', 'replace') if isinstance(status, bytes) else str(status)
            if text[:1] in ('4', '5'):
                peer = self.session.peer if self.session is not None else None
                logger.warning('smtp: refused %s (client %s)', text, peer[0] if peer else '-')
            await super().push(status)

    return SesSmtp(handler, **kwargs)


class SmtpGateway:
    """The SMTP server on `host:port`, in its own thread (aiosmtpd's Controller)."""

    def __init__(self, handler: SesInbound, *, host: str, port: int) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        class SesController(Controller):
            def factory(self) -> SMTP:
                return _ses_smtp(self.handler, **self.SMTP_kwargs)

        self._controller = SesController(
            self.handler,
            hostname=self.host,
            port=self.port,
            data_size_limit=SES_MAX_MESSAGE_BYTES,
            ident='Inboxdesk dev (SES inbound)',
            server_hostname=SES_INBOUND_HOST,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
