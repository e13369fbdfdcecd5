"""Who an outgoing mail may go to: the recipient filter.

Dropped, each with its reason: the outgoing email filter (addresses and whole `@domain` entries), our
own addresses (every inbound address, every channel's From), system and no-reply-like addresses
(postmaster, mailer-daemon, noreply, do-not-reply, bounces ...), and addresses marked undeliverable
after a permanent bounce or a complaint. Everything is compared in normalised form (`ids.normalise_address`), so
`Support+x@INBOXDESK.test.` is `support@inboxdesk.test`.

`deliverable` is pure; `recipient_filter` reads what it needs (a handful of reads, none per recipient
except one BatchGet of the undeliverable marks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from inboxdesk.dal import channels as channel_store
from inboxdesk.dal import queues as queue_store
from inboxdesk.dal import settings as settings_store
from inboxdesk.dal import suppressions
from inboxdesk.ids import normalise_address, normalise_domain

# The local part (plus tag removed, lower-case) of addresses that are machines, not people.
_SYSTEM_LOCAL: Final = frozenset({'postmaster', 'mailer-daemon', 'mailerdaemon', 'daemon', 'abuse'})
_NO_REPLY: Final = re.compile(
    r'^(?:.*[._-])?(?:no[._-]?reply|do[._-]?not[._-]?reply|dont[._-]?reply|bounces?|mailer[._-]?daemon|daemon)'
    r'(?:[._-].*)?$'
)
_WILDCARDS: Final = re.compile(r'[*?%]')


class FilterEntryError(ValueError):
    """A filter entry that is neither an address nor a whole `@domain`."""


def filter_entry(entry: str) -> str:
    """The normalised form of an entry an admin saves: `name@domain` or `@domain` (every address there).
    FilterEntryError for anything else (other wildcards are refused: they would never be applied)."""
    value = entry.strip()
    if _WILDCARDS.search(value):
        raise FilterEntryError(f'{entry!r}: only whole domains (@example.com) may stand for many addresses')
    local, at, domain = value.rpartition('@')
    if not at or not domain or '.' not in domain.strip('.') or any(c.isspace() for c in value):
        raise FilterEntryError(f'{entry!r} is neither an address nor a whole domain (@example.com)')
    return f'@{normalise_domain(domain)}' if not local else normalise_address(value)


def automatic_reason(address: str) -> str | None:
    """Why no mail may go to this normalised address whoever sent it, or None: system and no-reply names."""
    local = address.rpartition('@')[0]
    if local in _SYSTEM_LOCAL:
        return f'{local} is a system address'
    if _NO_REPLY.match(local):
        return 'a no-reply address'
    return None


@dataclass(frozen=True, slots=True)
class RecipientFilter:
    """What the filter holds, all normalised: filter addresses and domains, our own addresses, and the
    addresses marked undeliverable with why."""

    blocked_addresses: frozenset[str] = frozenset()
    blocked_domains: frozenset[str] = frozenset()
    own_addresses: frozenset[str] = frozenset()
    undeliverable: Mapping[str, str] = field(default_factory=dict)


def deliverable(recipients: Iterable[str], rules: RecipientFilter) -> tuple[list[str], list[tuple[str, str]]]:
    """The recipients mail may go to (as given, the first of each normalised address) and the dropped ones
    with the reason, in order."""
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for recipient in recipients:
        address = normalise_address(recipient)
        if address in seen:
            continue
        seen.add(address)
        reason = _reason(address, rules)
        if reason is None:
            kept.append(recipient.strip())
        else:
            dropped.append((recipient.strip(), reason))
    return kept, dropped


def _reason(address: str, rules: RecipientFilter) -> str | None:
    if '@' not in address:
        return 'not an email address'
    if address in rules.own_addresses:
        return 'one of our own addresses'
    if address in rules.blocked_addresses:
        return 'in the outgoing email filter'
    if f'@{address.rpartition("@")[2]}' in rules.blocked_domains:
        return 'its domain is in the outgoing email filter'
    if found := automatic_reason(address):
        return found
    if address in rules.undeliverable:
        return f'marked undeliverable ({rules.undeliverable[address]})'
    return None


def recipient_filter(recipients: Sequence[str]) -> RecipientFilter:
    """The filter as stored now, with the undeliverable marks of `recipients` (one BatchGet)."""

    manual, _ = settings_store.get_manual_filter()
    entries: list[str] = []
    for entry in manual:
        try:
            entries.append(filter_entry(entry))
        except FilterEntryError:
            continue  # saved before entries were checked: never matched anything, and still does not
    own = {normalise_address(a) for q in queue_store.list_queues() for a in q.inbound_addresses}
    own |= {normalise_address(c.from_address) for c in channel_store.list_channels()}
    return RecipientFilter(
        blocked_addresses=frozenset(e for e in entries if not e.startswith('@')),
        blocked_domains=frozenset(e for e in entries if e.startswith('@')),
        own_addresses=frozenset(own),
        undeliverable=suppressions.undeliverable([normalise_address(r) for r in recipients]),
    )
