"""Identifiers and time stamps, and the normal forms of the identifiers mail carries.

Ours: ULIDs (26 characters, Crockford base32) and ISO 8601 UTC times, both sortable by creation time
as text. Mail's: RFC 5322 Message-IDs and email addresses, each with one normaliser, and the one
cleaner of short text (titles, names, filenames). No storage code: threading, routing, loop rules,
ingestion and the API import this."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime

_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0
_ISO = '%Y-%m-%dT%H:%M:%S.%fZ'
# The bidirectional marks, embeddings, overrides and isolates (a regex class) that make a name read backwards.
BIDI_CONTROLS = '\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069'
_CONTROLS = re.compile(f'[\x00-\x08\x0a-\x1f\x7f-\x9f{BIDI_CONTROLS}]+')  # C0 and C1 but tab, and those


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append(_ALPHABET[rem])
    return ''.join(reversed(out))


def new_id() -> str:
    """A new ULID; monotonic within this process, so ids made in the same millisecond still sort in order."""
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), 'big') >> 1  # leave room to increment
        _last_ms, _last_rand = ms, rand
    return _encode(ms, 10) + _encode(rand, 16)


def iso_time(at: datetime) -> str:
    """A UTC time as stored: ISO 8601 with microseconds and `Z`, so it sorts as text."""
    return at.strftime(_ISO)


def now_iso() -> str:
    """UTC now, as `iso_time`."""
    return iso_time(datetime.now(UTC))


def normalise_rfc_id(message_id: str) -> str:
    """An RFC 5322 Message-ID as stored: `<abc@host>` and ` abc@host ` are the same; the local part keeps its case."""
    return message_id.strip().strip('<>').strip()


def normalise_domain(domain: str) -> str:
    """Lower-case, without the root's trailing dot, internationalised names as their ASCII (IDNA) form."""
    domain = domain.strip().rstrip('.').lower()
    try:
        return domain.encode('idna').decode('ascii')
    except UnicodeError:  # not a valid IDNA name: compare it as written
        return domain


def normalise_address(address: str) -> str:
    """An address as Inboxdesk compares it (routing, own addresses, the outgoing filter): case, plus tag,
    trailing dot and IDNA, so `Support+x@INBOXDESK.test.` -> `support@inboxdesk.test`."""
    local, at, domain = address.strip().strip('<>').strip().rpartition('@')
    if not at or not local:
        return address.strip().lower()
    return f'{local.lower().split("+", 1)[0]}@{normalise_domain(domain)}'


def strip_controls(text: str) -> str:
    """Short text as stored (titles, names, filenames): its words kept, control characters (C0 and C1 but
    tab) and bidirectional overrides such as U+202E removed, so nothing it shows can be reordered or escaped."""
    return _CONTROLS.sub('', text)
