"""Atomic counters: the human ticket number (#1, #2, ...)."""

from __future__ import annotations

from inboxdesk.dal import keys
from inboxdesk.dal.table import CounterItem


def next_ticket_number() -> int:
    """The next ticket number: one UpdateItem `ADD value 1` on the counter item, returning the new value."""
    item = CounterItem(keys.TICKET_COUNTER_PK, keys.SINGLE_SK)
    item.update(actions=[CounterItem.value.add(1), CounterItem.entity.set(CounterItem)])
    return int(item.value)
