"""Sending through Amazon SES v2 (`SendEmail` with raw MIME), through a configuration set that
publishes bounce, complaint and delivery events.

The client is created on first send (cold start); it follows `AWS_ENDPOINT_URL` like every client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from inboxdesk.errors import PermanentSendError, SendError, TransientSendError
from inboxdesk.integrations.transport import SentMail, check_envelope

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_sesv2 import SESV2Client

MAX_RAW_SIZE: Final = 40 * 1024 * 1024  # SES v2's limit for a raw message
_PERMANENT_REASONS: Final = {
    'MessageRejected': 'Amazon SES rejected the mail',
    'MailFromDomainNotVerifiedException': 'the sending domain is not verified in Amazon SES',
    'AccountSuspendedException': 'Amazon SES has suspended sending for this AWS account',
    'SendingPausedException': 'sending is paused in Amazon SES (account or configuration set)',
    'NotFoundException': 'Amazon SES does not know the configuration set or sending identity',
    'BadRequestException': 'Amazon SES refused the request',
}
# Codes worth trying again later; so is anything SES answers with a 5xx.
_TRANSIENT_CODES: Final = frozenset(
    {'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'LimitExceededException',
     'RequestTimeout', 'RequestTimeoutException', 'ServiceUnavailable', 'InternalFailure'}
)  # fmt: skip


def ses_message_ids(provider_id: str, region: str) -> tuple[str, ...]:
    """The Message-IDs SES gives what it sends: `<id@REGION.amazonses.com>`, and in us-east-1
    `<id@email.amazonses.com>` (listed first, the form SES uses there)."""
    regional = f'<{provider_id}@{region}.amazonses.com>'
    return (f'<{provider_id}@email.amazonses.com>', regional) if region == 'us-east-1' else (regional,)


def classify_ses_error(error: ClientError) -> SendError:
    """A SES error as a permanent or transient send error with a reason in plain words."""
    details = error.response.get('Error', {})
    code = str(details.get('Code', ''))
    message = ' '.join(str(details.get('Message', '')).split())
    status = int(error.response.get('ResponseMetadata', {}).get('HTTPStatusCode', 0))
    if code in _TRANSIENT_CODES or status >= 500:
        return TransientSendError(f'Amazon SES is busy or unavailable, will try again ({code}: {message})')
    reason = _PERMANENT_REASONS.get(code, f'Amazon SES refused the mail ({code})')
    return PermanentSendError(f'{reason}: {message}' if message else reason)


class SesTransport:
    """A `Transport` through SES v2 in one region."""

    def __init__(self, configuration_set: str, region: str) -> None:
        self.configuration_set = configuration_set
        self.region = region
        self._client: SESV2Client | None = None

    def _ses(self) -> SESV2Client:
        if self._client is None:
            import boto3

            self._client = boto3.client('sesv2', region_name=self.region)
        return self._client

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SentMail:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as NoConnectionError

        if len(raw) > MAX_RAW_SIZE:
            raise PermanentSendError(
                f'the mail is {len(raw) / 2**20:.1f} MB; Amazon SES sends at most {MAX_RAW_SIZE // 2**20} MB'
            )
        check_envelope(sender, recipients)
        try:
            answer = self._ses().send_email(
                FromEmailAddress=sender,
                Destination={'ToAddresses': list(recipients)},
                Content={'Raw': {'Data': raw}},
                ConfigurationSetName=self.configuration_set,
            )
        except ClientError as error:
            raise classify_ses_error(error) from error
        except (NoConnectionError, HTTPClientError) as error:  # unreachable, timed out, connection dropped
            raise TransientSendError(f'Amazon SES could not be reached ({error})') from error
        provider_id = answer['MessageId']
        return SentMail(provider_id=provider_id, provider_message_ids=ses_message_ids(provider_id, self.region))
