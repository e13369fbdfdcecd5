"""List cursors: opaque to clients, authenticated and bound to the list they came from.

A cursor is `<payload>.<mac>` in URL-safe base64: the payload is the list's identity and DynamoDB's last
evaluated key; the MAC is HMAC-SHA256 (128 bits kept) over both, with the stack's cursor key. A cursor
that was not made here, or made for another list, is refused before any of it reaches DynamoDB.
Stdlib only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, Final

from inboxdesk.errors import MalformedRequestError

_PURPOSE: Final = b'inboxdesk list cursor\x00'  # keeps these MACs apart from any other use of the key
_MAC_BYTES: Final = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def _mac(list_id: str, payload: bytes, key: bytes) -> bytes:
    if not key:
        raise ValueError('the cursor key is empty')
    message = _PURPOSE + list_id.encode('utf-8') + b'\x00' + payload
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def seal(list_id: str, last_key: dict[str, Any], key: bytes) -> str:
    """The cursor of the page after `last_key` in the list `list_id`."""
    payload = json.dumps(last_key, separators=(',', ':'), sort_keys=True).encode('utf-8')
    return f'{_b64(payload)}.{_b64(_mac(list_id, payload, key))}'


def unseal(cursor: str, list_id: str, key: bytes) -> dict[str, Any]:
    """The last key a cursor of `list_id` carries; MalformedRequestError for any other cursor."""
    refused = MalformedRequestError(
        "the cursor is not one this list gave out (another list's, or altered): start again without it"
    )
    encoded, dot, mac = cursor.partition('.')
    try:
        payload, given = _unb64(encoded), _unb64(mac)
    except (binascii.Error, ValueError) as exc:
        raise refused from exc
    if not dot or not hmac.compare_digest(given, _mac(list_id, payload, key)):
        raise refused
    last_key = json.loads(payload)
    if not isinstance(last_key, dict):  # only we sign payloads, so this is a bug, not a forgery
        raise refused
    return last_key
