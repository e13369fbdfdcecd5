"""The API's rules for queues and settings: the outgoing filter and the appearance of outgoing mail.

The outgoing filter is the manual list an admin keeps plus, automatically, every inbound address of
every queue and every connected mailbox ("reply via" address). An automatic address cannot be
removed while it is in use: a PUT that leaves one out is refused with the queue that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inboxdesk.errors import ConflictError
from inboxdesk.logic.tickets_api import InvalidRequestError
from inboxdesk.models import Queue


@dataclass(frozen=True, slots=True)
class FilterEntry:
    address: str
    source: str  # manual | inbound-address | mailbox
    removable: bool
    used_by: tuple[str, ...] = ()


def _automatic() -> dict[str, tuple[str, list[str]]]:
    """address -> (source, names of the queues using it)."""
    from inboxdesk.dal import queues as queue_store

    found: dict[str, tuple[str, list[str]]] = {}
    for queue in queue_store.list_queues():
        for address in queue.inbound_addresses:
            found.setdefault(address.lower(), ('inbound-address', []))[1].append(queue.name)
        if queue.reply_via and '@' in queue.reply_via:
            source = found.get(queue.reply_via.lower(), ('mailbox', []))
            found[queue.reply_via.lower()] = (source[0], [*source[1], queue.name])
    return found


def outgoing_filter() -> tuple[list[FilterEntry], int]:
    from inboxdesk.dal import settings as settings_store  # lazily: cold start

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
    from inboxdesk.logic.recipients import deliverable, recipient_filter

    _, dropped = deliverable(addresses, recipient_filter(addresses))
    return [address for address, _reason in dropped]


def replace_outgoing_filter(
    addresses: list[str], *, expected_version: int | None, updated_by: str
) -> tuple[list[FilterEntry], int]:
    from inboxdesk.dal import settings as settings_store  # lazily: cold start
    from inboxdesk.logic.recipients import FilterEntryError, filter_entry

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
    from inboxdesk.dal import settings as settings_store  # lazily: cold start

    return settings_store.get_appearance()


def replace_appearance(data: dict[str, Any], *, expected_version: int | None, updated_by: str) -> int:
    from inboxdesk.dal import settings as settings_store  # lazily: cold start

    if expected_version is None:
        _, expected_version = settings_store.get_appearance()
    return settings_store.put_appearance(data, expected_version=expected_version, updated_by=updated_by)


# --- queues (admins change them; `dal.queues` keeps addresses unique and the default single) ------


def list_queues() -> list[Queue]:
    from inboxdesk.dal import queues as queue_store

    return queue_store.list_queues()


def get_queue(queue_id: str) -> Queue:
    """NotFoundError when there is no such queue."""
    from inboxdesk.dal import queues as queue_store

    return queue_store.get_queue(queue_id)


def create_queue(fields: dict[str, Any]) -> Queue:
    from inboxdesk.dal import queues as queue_store
    from inboxdesk.logic.channels import require_channel

    require_channel('reply_via', fields.get('reply_via'))
    try:
        return queue_store.create_queue(**fields)
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from exc


def update_queue(queue_id: str, changes: dict[str, Any]) -> Queue:
    from inboxdesk.dal import queues as queue_store
    from inboxdesk.logic.channels import require_channel

    if not changes:
        return queue_store.get_queue(queue_id)
    if 'reply_via' in changes:
        require_channel('reply_via', changes['reply_via'])
    try:
        return queue_store.update_queue(queue_id, changes)
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from exc


def delete_queue(queue_id: str) -> None:
    """ConflictError while the queue has tickets or is the default (with others left); NotFoundError."""
    from inboxdesk.dal import queues as queue_store

    queue_store.delete_queue(queue_id)
