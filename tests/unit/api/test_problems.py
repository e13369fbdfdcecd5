"""Which errors the API answers with which status: only domain errors are the caller's to fix."""

from __future__ import annotations

import pytest

from api.problems import status_of
from inboxdesk.errors import (
    ConfigurationError,
    ConflictError,
    DuplicateMessageError,
    InvalidRequestError,
    NoQueueError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    QueueAddressTakenError,
    StoredMailUnavailableError,
    TicketNumberTakenError,
)

EXPECTED = [
    (InvalidRequestError('bad'), 422),
    (NotFoundError('gone'), 404),
    (ConflictError('busy'), 409),
    (QueueAddressTakenError('a@example.com'), 409),
    (PreconditionFailedError('changed'), 412),
    (TicketNumberTakenError('taken'), 412),
    (PreconditionRequiredError('if-match'), 428),
    # Ours, not the caller's: a 500 without detail
    (ConfigurationError('no queue url'), None),
    (NoQueueError('no queue'), None),
    (DuplicateMessageError('x'), None),
    (StoredMailUnavailableError('s3'), None),
]


@pytest.mark.parametrize(('error', 'status'), EXPECTED, ids=[type(e).__name__ for e, _ in EXPECTED])
def test_each_domain_error_has_its_status(error, status):
    assert status_of(error) == status
