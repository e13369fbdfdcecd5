"""Addresses marked undeliverable (`SUPPRESSED#<address>`, see `dal.table`): written by the SES feedback
after a permanent bounce or a complaint, read by the recipient filter. Addresses come normalised."""

from __future__ import annotations

from collections.abc import Sequence

from inboxdesk import ids
from inboxdesk.dal import keys
from inboxdesk.dal.table import InboxdeskItem, SuppressedAddressItem


def mark_undeliverable(address: str, *, reason: str, detail: str = '') -> None:
    """Record (or refresh) the mark; the latest reason wins."""
    SuppressedAddressItem(
        keys.suppressed_pk(address),
        keys.SINGLE_SK,
        address=address,
        reason=reason,
        detail=detail[:1000],
        recorded_at=ids.now_iso(),
    ).save()


def undeliverable(addresses: Sequence[str]) -> dict[str, str]:
    """address -> reason, for those of `addresses` that are marked (one BatchGetItem of at most 100 keys)."""
    wanted = list(dict.fromkeys(addresses))[:100]
    if not wanted:
        return {}
    found = InboxdeskItem.batch_get([(keys.suppressed_pk(a), keys.SINGLE_SK) for a in wanted])
    return {item.address: item.reason for item in found if isinstance(item, SuppressedAddressItem)}
