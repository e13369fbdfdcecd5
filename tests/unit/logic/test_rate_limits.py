"""The sliding-window limits on automatic mail, as a literal table (pure: no storage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inboxdesk.dal.rate_limits import SentMark
from inboxdesk.logic.rate_limits import limit_reason

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def sends(count: int, *, within_minutes: float, ticket_id: str = 'T1', kind: str = 'auto_reply') -> list[SentMark]:
    """`count` mails sent just inside the start of the last `within_minutes` minutes (so no shorter window
    holds them)."""
    return [SentMark(NOW - timedelta(minutes=within_minutes - 0.5), ticket_id, kind) for _ in range(count)]


# (already sent to the recipient, the next mail's ticket and kind) -> the reason, or None
CASES = [
    (sends(9, within_minutes=10), 'T1', 'auto_reply', None),
    (sends(10, within_minutes=10), 'T1', 'auto_reply', 'rate limit: 10 automatic mails on this ticket in 10 minutes'),
    (sends(10, within_minutes=10), 'T2', 'auto_reply', None),  # another ticket: only the across-tickets limits
    (sends(14, within_minutes=30), 'T1', 'auto_reply', None),
    (sends(15, within_minutes=30), 'T1', 'auto_reply', 'rate limit: 15 automatic mails on this ticket in 30 minutes'),
    (sends(25, within_minutes=60), 'T1', 'auto_reply', 'rate limit: 25 automatic mails on this ticket in 60 minutes'),
    (sends(50, within_minutes=180), 'T1', 'auto_reply', 'rate limit: 50 automatic mails on this ticket in 180 minutes'),
    (
        sends(100, within_minutes=600),
        'T1',
        'auto_reply',
        'rate limit: 100 automatic mails on this ticket in 600 minutes',
    ),
    (sends(99, within_minutes=600), 'T1', 'auto_reply', None),
    (
        sends(30, within_minutes=10, ticket_id='T9'),
        'T1',
        'auto_reply',
        'rate limit: 30 automatic mails across tickets in 10 minutes',
    ),
    (
        sends(60, within_minutes=30, ticket_id='T9'),
        'T1',
        'auto_reply',
        'rate limit: 60 automatic mails across tickets in 30 minutes',
    ),
    (
        sends(120, within_minutes=60, ticket_id='T9'),
        'T1',
        'auto_reply',
        'rate limit: 120 automatic mails across tickets in 60 minutes',
    ),
    (
        sends(240, within_minutes=180, ticket_id='T9'),
        'T1',
        'auto_reply',
        'rate limit: 240 automatic mails across tickets in 180 minutes',
    ),
    (
        sends(360, within_minutes=600, ticket_id='T9'),
        'T1',
        'auto_reply',
        'rate limit: 360 automatic mails across tickets in 600 minutes',
    ),
    (sends(359, within_minutes=600, ticket_id='T9'), 'T1', 'auto_reply', None),
    (sends(2, within_minutes=10, ticket_id='T9', kind='acknowledgement'), 'T1', 'acknowledgement', None),
    (
        sends(3, within_minutes=10, ticket_id='T9', kind='acknowledgement'),
        'T1',
        'acknowledgement',
        'rate limit: 3 automatic mails acknowledgements in 10 minutes',
    ),
    (sends(3, within_minutes=10, ticket_id='T9', kind='acknowledgement'), 'T1', 'auto_reply', None),
    (
        sends(3, within_minutes=20, ticket_id='T9', kind='acknowledgement'),
        'T1',
        'acknowledgement',
        None,
    ),  # 2 in the last 10
]


@pytest.mark.parametrize(('sent', 'ticket_id', 'kind', 'reason'), CASES)
def test_each_window(sent, ticket_id, kind, reason):
    assert limit_reason(sent, ticket_id=ticket_id, kind=kind, now=NOW) == reason


def test_mails_older_than_the_window_do_not_count():
    # Given 10 mails on the ticket, all just over 10 minutes ago
    old = [SentMark(NOW - timedelta(minutes=10, seconds=1), 'T1', 'auto_reply') for _ in range(10)]
    # Then the next is allowed (the 10-minute window slid past them; 10 is under every longer limit)
    assert limit_reason(old, ticket_id='T1', kind='auto_reply', now=NOW) is None
