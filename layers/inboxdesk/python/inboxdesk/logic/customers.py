"""Customers, as the API looks them up: by exact email address."""

from __future__ import annotations

from inboxdesk.dal import customers as customer_store
from inboxdesk.errors import NotFoundError
from inboxdesk.models import Customer


def find_customer(email: str) -> Customer | None:
    """The customer with this address, or None when no mail from it was ever ingested."""
    try:
        return customer_store.get_customer(email)
    except NotFoundError:
        return None
