"""Customers, by email: name, first and last seen, number of tickets opened.

The ingestion transaction keeps them up to date through `customer_update(...)`."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from inboxdesk.dal import keys
from inboxdesk.dal.table import CustomerItem
from inboxdesk.errors import NotFoundError
from inboxdesk.models import Customer, Participant


def _to_customer(item: CustomerItem) -> Customer:
    return Customer(
        email=item.email,
        name=item.name or '',
        first_seen=item.first_seen,
        last_seen=item.last_seen,
        ticket_count=int(item.ticket_count or 0),
    )


def get_customer(email: str) -> Customer:
    """NotFoundError when no mail from this address was ever ingested."""
    try:
        return _to_customer(CustomerItem.get(keys.customer_key(email), keys.SINGLE_SK))
    except DoesNotExist as exc:
        raise NotFoundError('customer not found') from exc


def customer_update(person: Participant, *, seen_at: str, new_ticket: bool) -> tuple[CustomerItem, list[Any]]:
    """The item and update actions (for a transaction) that record mail from `person` at `seen_at`."""
    item = CustomerItem(keys.customer_key(person.email), keys.SINGLE_SK)
    actions: list[Any] = [
        CustomerItem.entity.set(CustomerItem),
        CustomerItem.email.set(person.email.lower()),
        CustomerItem.first_seen.set(CustomerItem.first_seen | seen_at),
        CustomerItem.last_seen.set(seen_at),
        CustomerItem.ticket_count.add(1 if new_ticket else 0),
    ]
    if person.name:
        actions.append(CustomerItem.name.set(person.name))
    return item, actions
