"""SES's errors (codes from the SES v2 API reference) sorted into retry-later and give-up, with
reasons an agent can read."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from inboxdesk.errors import PermanentSendError, TransientSendError
from inboxdesk.integrations.ses import classify_ses_error

EXPECTED = {
    ('MessageRejected', 400): (PermanentSendError, 'Amazon SES rejected the mail: Email address is not verified.'),
    ('MailFromDomainNotVerifiedException', 400): (
        PermanentSendError,
        'the sending domain is not verified in Amazon SES: Email address is not verified.',
    ),
    ('AccountSuspendedException', 400): (
        PermanentSendError,
        'Amazon SES has suspended sending for this AWS account: Email address is not verified.',
    ),
    ('SendingPausedException', 400): (
        PermanentSendError,
        'sending is paused in Amazon SES (account or configuration set): Email address is not verified.',
    ),
    ('NotFoundException', 404): (
        PermanentSendError,
        'Amazon SES does not know the configuration set or sending identity: Email address is not verified.',
    ),
    ('SomethingNew', 400): (
        PermanentSendError,
        'Amazon SES refused the mail (SomethingNew): Email address is not verified.',
    ),
    ('TooManyRequestsException', 429): (
        TransientSendError,
        'Amazon SES is busy or unavailable, will try again (TooManyRequestsException: Email address is not verified.)',
    ),
    ('Throttling', 400): (
        TransientSendError,
        'Amazon SES is busy or unavailable, will try again (Throttling: Email address is not verified.)',
    ),
    ('LimitExceededException', 400): (
        TransientSendError,
        'Amazon SES is busy or unavailable, will try again (LimitExceededException: Email address is not verified.)',
    ),
    ('InternalFailure', 500): (
        TransientSendError,
        'Amazon SES is busy or unavailable, will try again (InternalFailure: Email address is not verified.)',
    ),
    ('SomethingNew', 503): (
        TransientSendError,
        'Amazon SES is busy or unavailable, will try again (SomethingNew: Email address is not verified.)',
    ),
}


@pytest.mark.parametrize(('code', 'status'), sorted(EXPECTED))
def test_ses_errors_are_classified(code: str, status: int) -> None:
    # Given SES's answer with this error code and HTTP status
    error = ClientError(
        {
            'Error': {'Code': code, 'Message': 'Email address is not verified.'},
            'ResponseMetadata': {'HTTPStatusCode': status},
        },
        'SendEmail',
    )

    # When it is classified
    result = classify_ses_error(error)

    # Then it is the expected kind with the expected words
    kind, reason = EXPECTED[(code, status)]
    assert type(result) is kind
    assert result.reason == reason
