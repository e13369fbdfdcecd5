"""Loop rules: mail from one of our own addresses, or carrying our loop header, is not ingested."""

from __future__ import annotations

from collections.abc import Collection

from inboxdesk import resources
from inboxdesk.ids import normalise_address
from inboxdesk.mail.model import Address, ParsedEmail


def is_own_address(address: str, own_addresses: Collection[str], own_domains: Collection[str]) -> bool:
    """Our inbound addresses (normalised) and every address in our own mail domains."""
    normalised = normalise_address(address)
    return normalised in own_addresses or normalised.rpartition('@')[2] in own_domains


def loop_reason(email: ParsedEmail, own_addresses: Collection[str], own_domains: Collection[str]) -> str | None:
    """Why this mail must not be ingested (`loop-header`, `own-address`), or None."""
    if email.header_values(resources.LOOP_HEADER.lower()):
        return 'loop-header'
    if (
        email.from_ is not None
        and email.from_.address
        and is_own_address(email.from_.address, own_addresses, own_domains)
    ):
        return 'own-address'
    return None


def external(
    addresses: Collection[Address], own_addresses: Collection[str], own_domains: Collection[str]
) -> list[Address]:
    """The addresses that are not ours (for CC participants), without repeats."""
    seen: set[str] = set()
    kept: list[Address] = []
    for person in addresses:
        key = normalise_address(person.address)
        if not person.address or '@' not in person.address or key in seen:
            continue
        if is_own_address(person.address, own_addresses, own_domains):
            continue
        seen.add(key)
        kept.append(person)
    return kept
