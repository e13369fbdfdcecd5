"""The rules of queues: what a queue may look like, which queue is the default, when one may go.

The first queue becomes the default; `is_default=True` moves the default to a queue; the default
cannot be unset (make another queue the default instead) and cannot be deleted while other queues
exist; a queue with tickets cannot be deleted. `dal.queues` stores the result and keeps inbound
addresses unique (QueueAddressTakenError) and the default pointer single.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Final

from inboxdesk import ids
from inboxdesk.dal import queues as queue_store
from inboxdesk.errors import ConflictError, InvalidRequestError
from inboxdesk.logic.channels import require_channel
from inboxdesk.models import Queue
from inboxdesk.names import DEFAULT_QUEUE_COLOUR

_COLOUR: Final = re.compile(r'^#[0-9a-fA-F]{6}$')
NAME_LIMIT: Final = 200
QUEUE_FIELDS: Final = frozenset(
    {'name', 'colour', 'inbound_addresses', 'is_default', 'reply_via', 'auto_ack_enabled', 'auto_ack_template'}
)


def is_address(address: str) -> bool:
    """Good enough to own: one `@` with something on both sides, no spaces."""
    local, at, domain = address.rpartition('@')
    return bool(at and local and domain) and not any(c.isspace() for c in address)


def clean_addresses(addresses: Iterable[Any]) -> tuple[str, ...]:
    """Lower-case, stripped, without repeats, in the order given."""
    return tuple(dict.fromkeys(str(a).strip().lower() for a in addresses))


def check_queue(queue: Queue) -> None:
    """InvalidRequestError naming what is wrong with the queue."""
    if not queue.name.strip() or len(queue.name) > NAME_LIMIT:
        raise InvalidRequestError(f'a queue needs a name of 1 to {NAME_LIMIT} characters')
    if not _COLOUR.match(queue.colour):
        raise InvalidRequestError(f'colour must look like #RRGGBB, not {queue.colour!r}')
    for address in queue.inbound_addresses:
        if not is_address(address):
            raise InvalidRequestError(f'not an email address: {address!r}')


def new_queue(
    *,
    name: str,
    colour: str = DEFAULT_QUEUE_COLOUR,
    inbound_addresses: Iterable[str] = (),
    is_default: bool = False,
    reply_via: str | None = None,
    auto_ack_enabled: bool = False,
    auto_ack_template: str | None = None,
    there_is_a_default: bool,
) -> Queue:
    """A queue as created, checked: the first queue (`there_is_a_default` False) becomes the default."""
    queue = Queue(
        id=ids.new_id(),
        name=name.strip(),
        colour=colour,
        inbound_addresses=clean_addresses(inbound_addresses),
        is_default=is_default or not there_is_a_default,
        reply_via=reply_via,
        auto_ack_enabled=auto_ack_enabled,
        auto_ack_template=auto_ack_template,
        created_at=ids.now_iso(),
    )
    check_queue(queue)
    return queue


def changed_queue(current: Queue, changes: dict[str, Any]) -> Queue:
    """`current` with some of QUEUE_FIELDS changed, checked; addresses are replaced as a whole.

    InvalidRequestError for unknown fields or bad values; ConflictError when the default would be unset."""
    unknown = set(changes) - QUEUE_FIELDS
    if unknown:
        raise InvalidRequestError(f'cannot change {", ".join(sorted(unknown))}')
    values = dict(changes)
    if 'inbound_addresses' in values:
        values['inbound_addresses'] = clean_addresses(values['inbound_addresses'])
    if 'name' in values:
        values['name'] = str(values['name']).strip()
    if current.is_default and values.get('is_default') is False:
        raise ConflictError('this is the default queue: make another queue the default instead')
    updated = replace(current, **values)
    check_queue(updated)
    return updated


def list_queues() -> list[Queue]:
    return queue_store.list_queues()


def get_queue(queue_id: str) -> Queue:
    """NotFoundError when there is no such queue."""
    return queue_store.get_queue(queue_id)


def create_queue(**fields: Any) -> Queue:
    """A new queue (see `new_queue`). QueueAddressTakenError when another queue owns one of its addresses."""
    require_channel('reply_via', fields.get('reply_via'))
    previous_default = queue_store.default_queue_id()
    queue = new_queue(**fields, there_is_a_default=previous_default is not None)
    queue_store.insert_queue(queue, previous_default)
    return queue


def ensure_default_queue(*, name: str, inbound_addresses: Iterable[str] = ()) -> tuple[Queue, bool]:
    """The default queue, and whether this call created it: when there is none (a fresh deployment), a queue
    `name` in the default colour owning those of `inbound_addresses` that are addresses. Two callers at once
    make one queue: the pointer is written only if absent, and the loser reads the winner's (consistently).
    ConflictError when neither works (e.g. an address taken by a queue that is not the default)."""
    found = queue_store.get_default_queue()
    if found is not None:
        return found, False
    owned = [a for a in clean_addresses(inbound_addresses) if is_address(a)]
    queue = new_queue(name=name, inbound_addresses=owned, is_default=True, there_is_a_default=False)
    try:
        queue_store.insert_queue(queue, None)  # only while there is no default pointer
    except ConflictError as exc:
        winner = queue_store.default_queue_id(consistent=True)
        if winner is None:
            raise ConflictError(f'no default queue, and it could not be created: {exc}') from exc
        return queue_store.get_queue(winner), False
    return queue, True


def update_queue(queue_id: str, changes: dict[str, Any]) -> Queue:
    """Change some of QUEUE_FIELDS (see `changed_queue`); QueueAddressTakenError when an added address is taken."""
    current = queue_store.get_queue(queue_id)
    if not changes:
        return current
    if 'reply_via' in changes:
        require_channel('reply_via', changes['reply_via'])
    updated = changed_queue(current, changes)
    becomes_default = updated.is_default and not current.is_default
    queue_store.replace_queue(current, updated, queue_store.default_queue_id() if becomes_default else None)
    return updated


def delete_queue(queue_id: str) -> None:
    """ConflictError while the queue has tickets, or is the default and other queues exist; NotFoundError."""
    queue = queue_store.get_queue(queue_id)
    if queue_store.queue_has_tickets(queue_id):
        raise ConflictError(f'queue {queue.name} still has tickets: move or delete them first')
    if queue.is_default and any(q.id != queue_id for q in queue_store.list_queues()):
        raise ConflictError(f'queue {queue.name} is the default queue: make another queue the default first')
    queue_store.delete_queue(queue)
