"""Routing: which queue a mail lands in.

Candidates, in order: the envelope recipients of the notice, then `Delivered-To`, `X-Original-To`,
`To`, `Cc`. The first that is a queue's inbound address (case-insensitive, plus-tags ignored) wins;
otherwise the default queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import getaddresses
from typing import TypeVar

from inboxdesk.ids import normalise_address
from inboxdesk.mail.model import ParsedEmail

Q = TypeVar('Q')

ROUTING_HEADERS = ('delivered-to', 'x-original-to')


def candidate_recipients(email: ParsedEmail, envelope_recipients: Sequence[str]) -> list[str]:
    """Normalised addresses to try, in routing order, without repeats."""
    found: list[str] = list(envelope_recipients)
    for header in ROUTING_HEADERS:
        found.extend(address for _name, address in getaddresses(email.header_values(header)))
    found.extend(a.address for a in email.to)
    found.extend(a.address for a in email.cc)
    ordered: dict[str, None] = {}
    for address in found:
        if address and '@' in address:
            ordered.setdefault(normalise_address(address), None)
    return list(ordered)


def choose_queue(candidates: Sequence[str], by_address: Mapping[str, Q], default: Q | None) -> tuple[Q | None, str]:
    """(queue, how): how is `address:<matched>` or `default` (queue None: nothing matched and no default)."""
    for address in candidates:
        queue = by_address.get(address)
        if queue is not None:
            return queue, f'address:{address}'
    return default, 'default'
