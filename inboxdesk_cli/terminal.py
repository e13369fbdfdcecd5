"""Text from mail, made safe for a terminal: nothing a sender wrote may move the cursor, recolour the
screen, set the window title or reorder what is shown.

Control characters (C0 but for none, DEL, C1 such as the one-byte CSI U+009B) and the bidirectional
controls (U+202A-U+202E, U+2066-U+2069, ...) are shown as escapes (`\\x1b`, `\\u202e`), so an ESC
sequence in a subject prints as the text `\\x1b[31m` and does nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from inboxdesk.ids import BIDI_CONTROLS

_UNSAFE = re.compile(f'[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]')
_UNSAFE_IN_JSON = re.compile(f'[\x7f-\x9f{BIDI_CONTROLS}]')  # json.dumps already escapes C0


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return f'\\x{ord(char):02x}' if ord(char) < 0x100 else f'\\u{ord(char):04x}'


def visible(text: str) -> str:
    """`text` with every control character shown as its escape."""
    return _UNSAFE.sub(_escape, text)


def safe_json(value: Any, **dumps: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, ...)` with the control characters it leaves as they are
    (DEL, C1, bidi controls) written as `\\uXXXX`: the same JSON value, harmless on a terminal."""
    text = json.dumps(value, ensure_ascii=False, **dumps)
    return _UNSAFE_IN_JSON.sub(lambda m: f'\\u{ord(m.group()):04x}', text)
