"""Automatic mail sent per recipient, for the rate limits (`logic.rate_limits`): one `RateMarkItem` per mail
(`RATE#<address>` / `<sent at>#<unique>`), which DynamoDB deletes after its `expires_at` (TTL). TTL deletes
late, so readers ask only for the window they need (`sk >= <window start>`). Addresses come normalised."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxdesk.dal import keys
from inboxdesk.dal.table import RateMarkItem

_TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%fZ'  # sortable as text


@dataclass(frozen=True, slots=True)
class SentMark:
    sent_at: datetime
    ticket_id: str
    kind: str


def recent_sends(address: str, since: datetime) -> list[SentMark]:
    """What went to `address` since `since` (one Query; the limits keep it to a few hundred small items)."""
    found = RateMarkItem.query(keys.rate_pk(address), RateMarkItem.sk >= since.strftime(_TIME_FORMAT))
    return [
        SentMark(
            sent_at=datetime.strptime(item.sk.split('#', 1)[0], _TIME_FORMAT).replace(tzinfo=since.tzinfo),
            ticket_id=item.ticket_id,
            kind=item.kind,
        )
        for item in found
    ]


def record_send(address: str, *, ticket_id: str, kind: str, at: datetime, keep_for: timedelta) -> None:
    """One PutItem; the mark expires `keep_for` after `at`."""
    RateMarkItem(
        keys.rate_pk(address),
        keys.rate_sk(at.strftime(_TIME_FORMAT), uuid.uuid4().hex[:12]),
        ticket_id=ticket_id,
        kind=kind,
        expires_at=int((at + keep_for).timestamp()),
    ).save()
