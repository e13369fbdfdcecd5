"""Queues, their inbound addresses and the default queue.

Items: the queue (`QUEUE#<q>`, listed on gsi1 `QUEUES`), one address item per inbound address
(`ADDRESS#<address>` -> queue id: routing by GetItem, and no address in two queues), and the
default pointer (`DEFAULTQUEUE`). The first queue created becomes the default. The pointer is only ever
written on the condition that it still is what the writer read, so there is one default at any time.

`routing_table()` is what ingestion reads: every queue with its addresses, from one Query, kept
by the container for `QUEUE_CACHE_SECONDS` (default 60) and dropped at once by any change made
through this module in the same process.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from inboxdesk.config import inbound_settings
from inboxdesk.dal import ids, keys
from inboxdesk.dal.table import (
    AddressItem,
    DefaultQueueItem,
    InboxdeskItem,
    QueueItem,
    cancellation_codes,
    connection,
)
from inboxdesk.errors import ConflictError, NotFoundError
from inboxdesk.models import Queue

_COLOUR = re.compile(r'^#[0-9a-fA-F]{6}$')
DEFAULT_COLOUR = '#2563eb'
QUEUE_FIELDS = frozenset(
    {'name', 'colour', 'inbound_addresses', 'is_default', 'reply_via', 'auto_ack_enabled', 'auto_ack_template'}
)


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Every queue, indexed by its normalised inbound addresses, and the default queue."""

    queues: tuple[Queue, ...]
    by_address: dict[str, Queue]
    default: Queue | None

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(self.by_address)

    def queue(self, queue_id: str) -> Queue | None:
        return next((q for q in self.queues if q.id == queue_id), None)


_cache_lock = threading.Lock()
_cache: tuple[float, RoutingTable] | None = None


def clear_routing_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def routing_table() -> RoutingTable:
    """The queues as routing sees them: one Query, then cached for the configured seconds."""
    global _cache
    now = time.monotonic()
    with _cache_lock:
        if _cache is not None and now - _cache[0] < inbound_settings().queue_cache_seconds:
            return _cache[1]
    queues = tuple(list_queues())
    by_address = {keys.normalise_address(a): q for q in queues for a in q.inbound_addresses}
    table = RoutingTable(queues=queues, by_address=by_address, default=next((q for q in queues if q.is_default), None))
    with _cache_lock:
        _cache = (now, table)
    return table


def _to_queue(item: QueueItem) -> Queue:
    return Queue(
        id=item.queue_id,
        name=item.name,
        colour=item.colour,
        inbound_addresses=tuple(str(a) for a in item.inbound_addresses or ()),
        is_default=bool(item.is_default),
        reply_via=item.reply_via,
        auto_ack_enabled=bool(item.auto_ack_enabled),
        auto_ack_template=item.auto_ack_template,
        created_at=item.created_at,
    )


def _to_item(queue: Queue) -> QueueItem:
    return QueueItem(
        keys.queue_pk(queue.id),
        keys.QUEUE_SK,
        queue_id=queue.id,
        name=queue.name,
        colour=queue.colour,
        inbound_addresses=list(queue.inbound_addresses),
        is_default=queue.is_default,
        reply_via=queue.reply_via,
        auto_ack_enabled=queue.auto_ack_enabled,
        auto_ack_template=queue.auto_ack_template,
        created_at=queue.created_at,
        gsi1pk=keys.ALL_QUEUES,
        gsi1sk=keys.queue_list_sk(queue.name, queue.id),
    )


def _validate(queue: Queue) -> None:
    if not queue.name.strip():
        raise ValueError('a queue needs a name')
    if not _COLOUR.match(queue.colour):
        raise ValueError(f'colour must look like #RRGGBB, not {queue.colour!r}')
    for address in queue.inbound_addresses:
        if '@' not in address or address.strip() != address or ' ' in address:
            raise ValueError(f'not an email address: {address!r}')


def _clean_addresses(addresses: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for address in addresses or ():
        seen.setdefault(str(address).strip().lower(), None)
    return tuple(seen)


def _address_item(address: str, queue_id: str) -> AddressItem:
    return AddressItem(keys.address_pk(address), keys.SINGLE_SK, address=address, queue_id=queue_id)


def _default_item(queue_id: str) -> DefaultQueueItem:
    return DefaultQueueItem(keys.DEFAULT_QUEUE_PK, keys.SINGLE_SK, queue_id=queue_id)


def _make_default(tx: TransactWrite, queue_id: str, previous_default: str | None) -> None:
    """Point the default at `queue_id` and clear the flag of the previous default (in `tx`); the write fails
    when the pointer is no longer `previous_default` (a concurrent writer moved or created it)."""
    tx.save(
        _default_item(queue_id),
        condition=DefaultQueueItem.queue_id == previous_default
        if previous_default
        else DefaultQueueItem.pk.does_not_exist(),
    )
    if previous_default:
        tx.update(
            QueueItem(keys.queue_pk(previous_default), keys.QUEUE_SK),
            actions=[QueueItem.is_default.set(False)],
            condition=QueueItem.pk.exists(),
        )


def _current_default_id(*, consistent: bool = False) -> str | None:
    try:
        return str(DefaultQueueItem.get(keys.DEFAULT_QUEUE_PK, keys.SINGLE_SK, consistent_read=consistent).queue_id)
    except DoesNotExist:
        return None


def _address_conflict(exc: TransactWriteError, addresses: Sequence[str]) -> ConflictError | None:
    """The conflict over an address another queue owns, when the transaction wrote the queue item first
    and then the address items of `addresses`, in order (so the address items are at positions 1..n)."""
    for position, code in enumerate(cancellation_codes(exc)):
        if code == 'ConditionalCheckFailed' and 1 <= position <= len(addresses):
            return ConflictError(f'the address {addresses[position - 1]} already belongs to another queue')
    return None


def _insert_queue(queue: Queue, previous_default: str | None) -> None:
    """Write a new queue, one address item per inbound address (each only if no queue owns it) and, when
    the queue is the default, the pointer (see `_make_default`), in one transaction. TransactWriteError
    as DynamoDB cancels it; the routing cache is dropped either way."""
    _validate(queue)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(_to_item(queue), condition=QueueItem.pk.does_not_exist())
            for address in queue.inbound_addresses:
                tx.save(_address_item(address, queue.id), condition=AddressItem.pk.does_not_exist())
            if queue.is_default:
                _make_default(tx, queue.id, previous_default)
    finally:
        clear_routing_cache()


def create_queue(
    *,
    name: str,
    colour: str = DEFAULT_COLOUR,
    inbound_addresses: list[str] | tuple[str, ...] = (),
    is_default: bool = False,
    reply_via: str | None = None,
    auto_ack_enabled: bool = False,
    auto_ack_template: str | None = None,
) -> Queue:
    """Create a queue. ConflictError when an address already belongs to a queue; ValueError on bad input.

    The first queue becomes the default; `is_default=True` moves the default to this queue."""
    previous_default = _current_default_id()
    queue = Queue(
        id=ids.new_id(),
        name=name.strip(),
        colour=colour,
        inbound_addresses=_clean_addresses(inbound_addresses),
        is_default=is_default or previous_default is None,
        reply_via=reply_via,
        auto_ack_enabled=auto_ack_enabled,
        auto_ack_template=auto_ack_template,
        created_at=ids.now_iso(),
    )
    try:
        _insert_queue(queue, previous_default)
    except TransactWriteError as exc:
        raise _address_conflict(exc, queue.inbound_addresses) or ConflictError(
            'the queues changed meanwhile, try again'
        ) from exc
    return queue


def get_queue(queue_id: str) -> Queue:
    """NotFoundError when there is no such queue."""
    try:
        return _to_queue(QueueItem.get(keys.queue_pk(queue_id), keys.QUEUE_SK))
    except DoesNotExist as exc:
        raise NotFoundError(f'queue {queue_id} not found') from exc


def list_queues() -> list[Queue]:
    """Every queue, by name (one Query on gsi1 `QUEUES`)."""
    return [_to_queue(item) for item in InboxdeskItem.gsi1.query(keys.ALL_QUEUES) if isinstance(item, QueueItem)]


def find_queue_by_address(address: str) -> Queue | None:
    """The queue an inbound address belongs to (case-insensitive, plus-tag ignored), or None."""
    try:
        pointer = AddressItem.get(keys.address_pk(address), keys.SINGLE_SK)
    except DoesNotExist:
        return None
    try:
        return get_queue(pointer.queue_id)
    except NotFoundError:
        return None


def get_default_queue() -> Queue | None:
    queue_id = _current_default_id()
    if queue_id is None:
        return None
    try:
        return get_queue(queue_id)
    except NotFoundError:
        return None


def ensure_default_queue(*, name: str, inbound_addresses: list[str] | tuple[str, ...] = ()) -> tuple[Queue, bool]:
    """The default queue, and whether this call created it: when there is none (a fresh deployment), a queue
    `name` in the default colour owning `inbound_addresses`, made the default. Two callers at once make one
    queue: the pointer is written only if absent, and the loser reads the winner's (consistently).
    ConflictError when neither works (e.g. an address taken by a queue that is not the default)."""
    found = get_default_queue()
    if found is not None:
        return found, False
    addresses = tuple(a for a in _clean_addresses(inbound_addresses) if '@' in a and ' ' not in a)
    queue = Queue(
        id=ids.new_id(),
        name=name,
        colour=DEFAULT_COLOUR,
        inbound_addresses=addresses,
        is_default=True,
        reply_via=None,
        auto_ack_enabled=False,
        auto_ack_template=None,
        created_at=ids.now_iso(),
    )
    try:
        _insert_queue(queue, None)
    except TransactWriteError as exc:
        winner = _current_default_id(consistent=True)
        try:
            if winner is not None:
                return get_queue(winner), False
        except NotFoundError:
            pass
        raise ConflictError('no default queue, and it could not be created') from exc
    return queue, True


def update_queue(queue_id: str, changes: dict[str, Any]) -> Queue:
    """Change some of QUEUE_FIELDS. Addresses are replaced as a whole (ConflictError when one is taken);
    `is_default=True` moves the default here; un-setting the default is refused (make another queue default)."""
    unknown = set(changes) - QUEUE_FIELDS
    if unknown:
        raise ValueError(f'cannot change {", ".join(sorted(unknown))}')
    current = get_queue(queue_id)
    values = dict(changes)
    if 'inbound_addresses' in values:
        values['inbound_addresses'] = _clean_addresses(values['inbound_addresses'])
    if 'name' in values:
        values['name'] = str(values['name']).strip()
    if current.is_default and values.get('is_default') is False:
        raise ConflictError('this is the default queue: make another queue the default instead')
    updated = replace(current, **values)
    _validate(updated)
    previous_default = _current_default_id() if updated.is_default and not current.is_default else None
    added = [a for a in updated.inbound_addresses if a not in current.inbound_addresses]
    removed = [a for a in current.inbound_addresses if a not in updated.inbound_addresses]
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(_to_item(updated), condition=QueueItem.pk.exists())
            for address in added:
                tx.save(_address_item(address, queue_id), condition=AddressItem.pk.does_not_exist())
            for address in removed:
                tx.delete(_address_item(address, queue_id), condition=AddressItem.queue_id == queue_id)
            if previous_default != queue_id and updated.is_default and not current.is_default:
                _make_default(tx, queue_id, previous_default)
    except TransactWriteError as exc:
        raise _address_conflict(exc, added) or ConflictError('the queue changed meanwhile, try again') from exc
    finally:
        clear_routing_cache()
    return updated


def queue_has_tickets(queue_id: str) -> bool:
    """One Query of at most one item on gsi1 `QUEUE#<q>`."""
    return any(True for _ in InboxdeskItem.gsi1.query(keys.queue_pk(queue_id), limit=1, page_size=1))


def delete_queue(queue_id: str) -> None:
    """Delete a queue and its addresses. ConflictError while it has tickets, or while it is the default
    and other queues exist; NotFoundError when there is no such queue."""
    queue = get_queue(queue_id)
    if queue_has_tickets(queue_id):
        raise ConflictError(f'queue {queue.name} still has tickets: move or delete them first')
    if queue.is_default and any(q.id != queue_id for q in list_queues()):
        raise ConflictError(f'queue {queue.name} is the default queue: make another queue the default first')
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(_to_item(queue), condition=QueueItem.pk.exists())
            for address in queue.inbound_addresses:
                tx.delete(_address_item(address, queue_id), condition=AddressItem.queue_id == queue_id)
            if queue.is_default:
                tx.delete(_default_item(queue_id), condition=DefaultQueueItem.queue_id == queue_id)
    except TransactWriteError as exc:
        raise ConflictError('the queue changed meanwhile, try again') from exc
    finally:
        clear_routing_cache()
