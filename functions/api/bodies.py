"""Request bodies read once before routing: what cannot be read at all is a 400 problem, never a 500.

API Gateway hands over a body that is not UTF-8 in base64; the resolver would decode and parse it with
no limit but the interpreter's. Here a body must be UTF-8, and a JSON body must parse with numbers of at
most MAX_DIGITS digits and nesting at most MAX_DEPTH deep (no request of this API nests more than a few
levels)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

MAX_DEPTH: Final = 32
MAX_DIGITS: Final = 100  # far beyond any count or size; Python refuses integers over 4,300 digits by raising


class _Refused(ValueError):
    """Valid JSON this API does not read."""


def _number(text: str) -> int | float:
    if len(text.lstrip('-')) > MAX_DIGITS:
        raise _Refused(f'numbers may have at most {MAX_DIGITS} digits')
    return float(text) if any(c in text for c in '.eE') else int(text)


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in `value` (iteratively: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if level > MAX_DEPTH:
            return level
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def unreadable(event: dict[str, Any]) -> str | None:
    """Why the event's body cannot be read (for a 400), or None when it can (or there is none)."""
    body = event.get('body')
    if not body:
        return None
    try:
        raw = base64.b64decode(body, validate=True) if event.get('isBase64Encoded') else str(body).encode('utf-8')
        text = raw.decode('utf-8')
    except (binascii.Error, UnicodeError):
        return 'the body is not UTF-8 text'
    content_type = str((event.get('headers') or {}).get('content-type', ''))
    if 'json' not in content_type.lower():
        return None  # the resolver answers 415 for what is not JSON
    try:
        parsed = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_refuse_constant)
    except RecursionError:
        return f'the JSON nests deeper than {MAX_DEPTH} levels'
    except _Refused as exc:
        return str(exc)
    except json.JSONDecodeError as exc:  # the position, never the text: it may be a mail body
        return f'the body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})'
    if _depth(parsed) > MAX_DEPTH:
        return f'the JSON nests deeper than {MAX_DEPTH} levels'
    return None


def _refuse_constant(name: str) -> float:
    raise _Refused(f'{name} is not a JSON number')
