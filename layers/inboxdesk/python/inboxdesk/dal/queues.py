"""Queues, their inbound addresses and the default queue: stored as `logic.queues` decides.

Items: the queue (`QUEUE#<q>`, listed on gsi1 `QUEUES`), one address item per inbound address
(`ADDRESS#<address>` -> queue id: routing by GetItem, and no address in two queues), and the
default pointer (`DEFAULTQUEUE`). The pointer is only ever written on the condition that it still
is what the writer read, so there is one default at any time.

`routing_table(max_age)` is what ingestion reads: every queue with its addresses, from one Query, kept
by the container for `max_age` seconds and dropped at once by any change made through this module in
the same process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from inboxdesk.dal import keys
from inboxdesk.dal.table import AddressItem, DefaultQueueItem, InboxdeskItem, QueueItem, Transaction
from inboxdesk.errors import ConflictError, NotFoundError, QueueAddressTakenError
from inboxdesk.ids import normalise_address
from inboxdesk.models import Queue


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


def routing_table(max_age: float) -> RoutingTable:
    """The queues as routing sees them: one Query, then kept for `max_age` seconds."""
    global _cache
    now = time.monotonic()
    with _cache_lock:
        if _cache is not None and now - _cache[0] < max_age:
            return _cache[1]
    queues = tuple(list_queues())
    by_address = {normalise_address(a): q for q in queues for a in q.inbound_addresses}
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


def _address_item(address: str, queue_id: str) -> AddressItem:
    return AddressItem(keys.address_pk(address), keys.SINGLE_SK, address=address, queue_id=queue_id)


def _default_item(queue_id: str) -> DefaultQueueItem:
    return DefaultQueueItem(keys.DEFAULT_QUEUE_PK, keys.SINGLE_SK, queue_id=queue_id)


def _changed_meanwhile(_cancelled: Exception) -> ConflictError:
    return ConflictError('the queues changed meanwhile, try again')


def _claim_addresses(tx: Transaction, queue_id: str, addresses: tuple[str, ...] | list[str]) -> None:
    for address in addresses:
        tx.put(
            _address_item(address, queue_id),
            condition=AddressItem.pk.does_not_exist(),
            on_conflict=QueueAddressTakenError(address),
        )


def _move_default(tx: Transaction, queue_id: str, previous_default: str | None) -> None:
    """Point the default at `queue_id` and clear the flag of the previous default; the write fails when the
    pointer is no longer `previous_default` (a concurrent writer moved or created it)."""
    tx.put(
        _default_item(queue_id),
        condition=DefaultQueueItem.queue_id == previous_default
        if previous_default
        else DefaultQueueItem.pk.does_not_exist(),
    )
    if previous_default:
        tx.update(
            QueueItem(keys.queue_pk(previous_default), keys.QUEUE_SK),
            [QueueItem.is_default.set(False)],
            condition=QueueItem.pk.exists(),
        )


def default_queue_id(*, consistent: bool = False) -> str | None:
    """The id the default pointer names (one GetItem), or None when there is no default yet."""
    try:
        return str(DefaultQueueItem.get(keys.DEFAULT_QUEUE_PK, keys.SINGLE_SK, consistent_read=consistent).queue_id)
    except DoesNotExist:
        return None


def insert_queue(queue: Queue, previous_default: str | None) -> None:
    """A new queue, its address items and, when it is the default, the pointer (moved from `previous_default`),
    in one transaction. QueueAddressTakenError when a queue owns an address; ConflictError when the default
    moved meanwhile."""
    try:
        with Transaction(otherwise=_changed_meanwhile) as tx:
            tx.put(_to_item(queue), condition=QueueItem.pk.does_not_exist())
            _claim_addresses(tx, queue.id, queue.inbound_addresses)
            if queue.is_default:
                _move_default(tx, queue.id, previous_default)
    finally:
        clear_routing_cache()


def replace_queue(current: Queue, updated: Queue, previous_default: str | None) -> None:
    """Store `updated` over `current`: addresses claimed and released, the default moved here when `updated`
    became it. Errors as for `insert_queue`."""
    added = [a for a in updated.inbound_addresses if a not in current.inbound_addresses]
    removed = [a for a in current.inbound_addresses if a not in updated.inbound_addresses]
    try:
        with Transaction(otherwise=_changed_meanwhile) as tx:
            tx.put(_to_item(updated), condition=QueueItem.pk.exists())
            _claim_addresses(tx, current.id, added)
            for address in removed:
                tx.delete(_address_item(address, current.id), condition=AddressItem.queue_id == current.id)
            if updated.is_default and not current.is_default:
                _move_default(tx, current.id, previous_default)
    finally:
        clear_routing_cache()


def delete_queue(queue: Queue) -> None:
    """Delete a queue, its addresses and, when it is the default, the pointer. ConflictError when it changed."""
    try:
        with Transaction(otherwise=_changed_meanwhile) as tx:
            tx.delete(_to_item(queue), condition=QueueItem.pk.exists())
            for address in queue.inbound_addresses:
                tx.delete(_address_item(address, queue.id), condition=AddressItem.queue_id == queue.id)
            if queue.is_default:
                tx.delete(_default_item(queue.id), condition=DefaultQueueItem.queue_id == queue.id)
    finally:
        clear_routing_cache()


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


def get_default_queue(*, consistent: bool = False) -> Queue | None:
    queue_id = default_queue_id(consistent=consistent)
    if queue_id is None:
        return None
    try:
        return get_queue(queue_id)
    except NotFoundError:
        return None


def queue_has_tickets(queue_id: str) -> bool:
    """One Query of at most one item on gsi1 `QUEUE#<q>`."""
    return any(True for _ in InboxdeskItem.gsi1.query(keys.queue_pk(queue_id), limit=1, page_size=1))
