"""Signed reply tokens: they thread a customer's answer into its ticket when the mail client kept
none of our headers (DESIGN.md, threading rule 2).

A token is the ticket id followed by a MAC over it, both in lower-case Crockford base32 (the
alphabet ULIDs use), so it survives mail systems that fold the case of addresses:

    01jf3k6m7c9q2x8d4t5v6w7y8z  hx2k9m4p7q1rs
    `------ ticket id (26) ---'  `- MAC (13) -'    39 characters, no separator

The MAC is HMAC-SHA256 over the ticket id, truncated to 65 bits: not guessable and bound to that
one ticket. A token travels in three places, each found again by one function here:
- the plus part of the Reply-To address: `support+TOKEN@example.com` (`plus_address`, `token_of_address`);
- a Message-ID in References: `<ref-TOKEN@example.com>` (`reference_id`, `token_of_references`);
- a line at the foot of the text part: `[ref:TOKEN]` (`reference_line`, `token_of_text`).
The finders only recognise the shape; `verify_token` decides whether to trust it.

Stdlib only: imported by the inbound path and the reply sender alike.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Final

_ALPHABET: Final = '0123456789abcdefghjkmnpqrstvwxyz'
_TICKET_ID_LENGTH: Final = 26
_MAC_LENGTH: Final = 13  # 65 bits
TOKEN_LENGTH: Final = _TICKET_ID_LENGTH + _MAC_LENGTH
MAX_LOCAL_PART: Final = 64  # RFC 5321 §4.5.3.1.1
_PURPOSE: Final = b'inboxdesk reply token\x00'  # keeps these MACs apart from any other use of the key
_TICKET_ID = re.compile(r'[0-7][0-9A-HJKMNP-TV-Z]{25}')  # a ULID: 128 bits, upper-case Crockford
_TOKEN = f'[0-9a-hjkmnp-tv-z]{{{TOKEN_LENGTH}}}'
_IS_TOKEN = re.compile(_TOKEN)
_REFERENCE_LINE = re.compile(rf'\[ref:({_TOKEN})\]', re.IGNORECASE)
_REFERENCE_ID = re.compile(rf'<?ref-({_TOKEN})@[^@<>\s]+>?', re.IGNORECASE)


def _mac(ticket_id: str, key: bytes) -> str:
    if not key:
        raise ValueError('the reply-token key is empty')
    digest = hmac.new(key, _PURPOSE + ticket_id.encode('ascii'), hashlib.sha256).digest()
    value = int.from_bytes(digest[:9], 'big') >> (72 - 5 * _MAC_LENGTH)
    return ''.join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(_MAC_LENGTH)))


def make_token(ticket_id: str, key: bytes) -> str:
    """The reply token of the ticket `ticket_id` (a ULID)."""
    if not _TICKET_ID.fullmatch(ticket_id):
        raise ValueError(f'not a ticket id: {ticket_id!r}')
    return ticket_id.lower() + _mac(ticket_id, key)


def verify_token(token: str, key: bytes) -> str | None:
    """The ticket id a token names when its MAC is right (in any letter case), else None."""
    token = token.lower()
    if not _IS_TOKEN.fullmatch(token):
        return None
    ticket_id = token[:_TICKET_ID_LENGTH].upper()
    if not _TICKET_ID.fullmatch(ticket_id):
        return None
    return ticket_id if hmac.compare_digest(_mac(ticket_id, key), token[_TICKET_ID_LENGTH:]) else None


def plus_address(address: str, token: str) -> str:
    """`support@example.com` -> `support+TOKEN@example.com`. When the local part would outgrow the
    64 characters SMTP allows, the address stays as it is (the token still travels in References
    and the text)."""
    local, at, domain = address.rpartition('@')
    if not at or not local:
        raise ValueError(f'not an address: {address!r}')
    tagged = f'{local}+{token}'
    return f'{tagged}@{domain}' if len(tagged) <= MAX_LOCAL_PART else address


def token_of_address(address: str) -> str | None:
    """The token in an address's last plus part (`support+TOKEN@...`), lower-cased; None if none."""
    local = address.strip().strip('<>').rpartition('@')[0]
    _, plus, tag = local.rpartition('+')
    return tag.lower() if plus and _IS_TOKEN.fullmatch(tag.lower()) else None


def reference_line(token: str) -> str:
    """The line at the foot of a reply's text part."""
    return f'[ref:{token}]'


def token_of_text(text: str) -> str | None:
    """The token of the first reference line in a (quoted) body, lower-cased; None if none."""
    match = _REFERENCE_LINE.search(text)
    return match.group(1).lower() if match else None


def reference_id(token: str, domain: str) -> str:
    """The Message-ID (bare, without angle brackets) that carries the token in References."""
    return f'ref-{token}@{domain}'


def token_of_references(ids: Iterable[str]) -> str | None:
    """The token of the first reference id among Message-IDs (bare or in `<...>`), lower-cased."""
    for message_id in ids:
        match = _REFERENCE_ID.fullmatch(message_id.strip())
        if match:
            return match.group(1).lower()
    return None
