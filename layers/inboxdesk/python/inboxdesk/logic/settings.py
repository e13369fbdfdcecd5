"""The outgoing filter and the appearance of outgoing mail.

The outgoing filter is the manual list an admin keeps plus, automatically, every inbound address of
every queue and the From address of every outbound channel. An automatic address cannot be
removed while it is in use: a PUT that leaves one out is refused with the queue that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inboxdesk.dal import channels as channel_store
from inboxdesk.dal import queues as queue_store
from inboxdesk.dal import settings as settings_store
from inboxdesk.errors import ConflictError, InvalidRequestError
from inboxdesk.ids import normalise_address
from inboxdesk.logic.recipients import FilterEntryError, deliverable, filter_entry, recipient_filter
from inboxdesk.mail.html import sanitise
from inboxdesk.models import FilterSource


@dataclass(frozen=True, slots=True)
class FilterEntry:
    address: str
    source: FilterSource
    removable: bool
    used_by: tuple[str, ...] = ()


def _automatic() -> dict[str, tuple[FilterSource, list[str]]]:
    """address -> (source, what uses it): every queue's inbound addresses, and the From address of every
    outbound channel (with the queues replying through it), so Inboxdesk never mails itself."""
    found: dict[str, tuple[FilterSource, list[str]]] = {}
    queues = queue_store.list_queues()
    for queue in queues:
        for address in queue.inbound_addresses:
            found.setdefault(normalise_address(address), ('inbound-address', []))[1].append(queue.name)
    for channel in channel_store.list_channels():
        users = [q.name for q in queues if q.reply_via == channel.id] or [channel.display_name or channel.from_address]
        found.setdefault(normalise_address(channel.from_address), ('channel', []))[1].extend(users)
    return found


def outgoing_filter() -> tuple[list[FilterEntry], int]:
    manual, version = settings_store.get_manual_filter()
    automatic = _automatic()
    entries = [
        FilterEntry(address=a, source=source, removable=False, used_by=tuple(sorted(set(users))))
        for a, (source, users) in sorted(automatic.items())
    ]
    entries += [FilterEntry(address=a, source='manual', removable=True) for a in sorted(set(manual) - set(automatic))]
    return entries, version


def suppressed(addresses: list[str]) -> list[str]:
    """The addresses Inboxdesk must never send to, of those given (`logic.recipients`)."""
    _, dropped = deliverable(addresses, recipient_filter(addresses))
    return [address for address, _reason in dropped]


def replace_outgoing_filter(
    addresses: list[str], *, expected_version: int | None, updated_by: str
) -> tuple[list[FilterEntry], int]:
    try:
        wanted = {filter_entry(a) for a in addresses}
    except FilterEntryError as exc:
        raise InvalidRequestError(f'addresses: {exc}') from exc
    automatic = _automatic()
    missing = sorted(a for a in automatic if a not in wanted)
    if missing:
        used = '; '.join(f'{a} (used by {", ".join(sorted(set(automatic[a][1])))})' for a in missing)
        raise ConflictError(
            f'these addresses are in use and stay in the filter: {used}. Remove them from the queue first.'
        )
    _, current = settings_store.get_manual_filter()
    version = current if expected_version is None else expected_version
    settings_store.put_manual_filter(sorted(wanted - set(automatic)), expected_version=version, updated_by=updated_by)
    return outgoing_filter()


def appearance() -> tuple[dict[str, Any] | None, int]:
    return settings_store.get_appearance()


def replace_appearance(
    data: dict[str, Any], *, expected_version: int | None, updated_by: str
) -> tuple[dict[str, Any], int]:
    """Store the appearance with its signature HTML sanitised (it is shown to every agent and mailed to every
    customer): what is stored is what is shown. Returns what was stored and its version."""
    stored = {**data, 'signature_html': sanitise(str(data.get('signature_html') or '')).strip()}
    if expected_version is None:
        _, expected_version = settings_store.get_appearance()
    return stored, settings_store.put_appearance(stored, expected_version=expected_version, updated_by=updated_by)
