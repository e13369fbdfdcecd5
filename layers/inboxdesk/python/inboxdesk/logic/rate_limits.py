"""Rate limits on automatic mail (acknowledgements, auto-replies), per recipient, in sliding windows.

At least as strict as the strictest peer: per recipient per ticket 10 in 10 minutes, 15 in 30, 25 in 60,
50 in 180, 100 in 600; per recipient across tickets 30 in 10 minutes, 60 in 30, 120 in 60, 240 in 180,
360 in 600; and at most 3 acknowledgements per customer in 10 minutes.

A check is one Query (what went to the recipient in the longest window) and, when allowed, one PutItem
(this mail). Two checks for the same recipient at the same instant may both pass: the limits can be
exceeded by the number of concurrent senders, never more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from inboxdesk.dal import rate_limits as rate_store
from inboxdesk.dal.rate_limits import SentMark
from inboxdesk.ids import normalise_address

AutomaticKind = Literal['acknowledgement', 'auto_reply']
Window = tuple[int, int]  # (at most this many mails, in this many minutes)

PER_TICKET: Final[tuple[Window, ...]] = ((10, 10), (15, 30), (25, 60), (50, 180), (100, 600))
ACROSS_TICKETS: Final[tuple[Window, ...]] = ((30, 10), (60, 30), (120, 60), (240, 180), (360, 600))
ACKNOWLEDGEMENTS: Final[tuple[Window, ...]] = ((3, 10),)
LONGEST: Final = timedelta(minutes=max(m for _, m in PER_TICKET + ACROSS_TICKETS + ACKNOWLEDGEMENTS))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def limit_reason(sends: Sequence[SentMark], *, ticket_id: str, kind: str, now: datetime) -> str | None:
    """Which limit one more automatic mail would break, given what was sent to the recipient; None if none."""
    rules: tuple[tuple[str, tuple[Window, ...], Callable[[SentMark], bool]], ...] = (
        ('on this ticket', PER_TICKET, lambda s: s.ticket_id == ticket_id),
        ('across tickets', ACROSS_TICKETS, lambda s: True),
        ('acknowledgements', ACKNOWLEDGEMENTS if kind == 'acknowledgement' else (), lambda s: s.kind == kind),
    )
    for scope, windows, counts in rules:
        for limit, minutes in windows:
            start = now - timedelta(minutes=minutes)
            if sum(1 for s in sends if s.sent_at > start and counts(s)) >= limit:
                return f'rate limit: {limit} automatic mails {scope} in {minutes} minutes'
    return None


def allow_automatic(
    recipient: str, ticket_id: str, kind: AutomaticKind, *, clock: Callable[[], datetime] = _utc_now
) -> str | None:
    """None when one more automatic mail may go to `recipient` now (and it is counted), else the reason."""

    now = clock()
    address = normalise_address(recipient)
    reason = limit_reason(rate_store.recent_sends(address, now - LONGEST), ticket_id=ticket_id, kind=kind, now=now)
    if reason is None:
        rate_store.record_send(address, ticket_id=ticket_id, kind=kind, at=now, keep_for=LONGEST)
    return reason
