"""MIME header parameters (Content-Type, Content-Disposition) read from the raw value.

Handles what the stdlib does not: unquoted values with spaces (`filename=My File.pdf`), RFC 2231
continuations with charsets (`filename*0*=utf-8''%E6...; filename*1*=...`), encoded words in
quoted values, raw 8-bit values, and unknown charsets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from inboxdesk.mail.charsets import decode_bytes, normalise_charset
from inboxdesk.mail.headers import decode_words, unfold

_SECTION = re.compile(r'^([^*]+)\*(\d+)(\*?)$|^([^*]+)(\*)$')


def _split_params(value: str) -> list[str]:
    """Split on ';' outside quoted strings."""
    items: list[str] = []
    buf: list[str] = []
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            buf.append(ch)
            escaped = False
        elif quoted and ch == '\\':
            buf.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch == ';' and not quoted:
            items.append(''.join(buf))
            buf = []
        else:
            buf.append(ch)
    items.append(''.join(buf))
    return items


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"':
        end = value.rfind('"')
        inner = value[1:end] if end > 0 else value[1:]
        return re.sub(r'\\(.)', r'\1', inner)
    if value.startswith('"'):
        return value[1:]
    return value


def parse_params(value: str, hints: Iterable[str] = ()) -> tuple[str, dict[str, str]]:
    """(lower-cased main value, {lower-cased name: decoded value}) of a parameterised header value
    given as text (raw 8-bit bytes already decoded). Never raises."""
    hint_list = list(hints)
    parts = _split_params(unfold(value))
    main = parts[0].strip().strip('"').lower()
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for item in parts[1:]:
        if '=' not in item:
            continue
        key, _, raw_value = item.partition('=')
        key = key.strip().lower()
        if not key:
            continue
        match = _SECTION.match(key)
        if match and match.group(1):
            sections.setdefault(match.group(1), {})[int(match.group(2))] = (raw_value.strip(), bool(match.group(3)))
        elif match and match.group(4):
            sections.setdefault(match.group(4), {})[0] = (raw_value.strip(), True)
        elif key not in plain:
            plain[key] = _unquote(raw_value)
    result: dict[str, str] = {}
    for key, text in plain.items():
        result[key] = decode_words(text, hint_list) if '=?' in text else text
    for key, pieces in sections.items():
        try:
            result[key] = _join_rfc2231(pieces, hint_list)
        except Exception:  # noqa: BLE001 - a broken RFC 2231 value falls back to the plain one
            continue
    return main, result


def _join_rfc2231(pieces: dict[int, tuple[str, bool]], hints: list[str]) -> str:
    charset = ''
    data = bytearray()
    for index in sorted(pieces):
        text, encoded = pieces[index]
        if encoded:
            text = text.strip().strip('"')
            if index == min(pieces) and text.count("'") >= 2:
                charset, _lang, text = text.split("'", 2)
            elif index == min(pieces) and text.count("'") == 1 and normalise_charset(text.split("'", 1)[0]):
                charset, text = text.split("'", 1)  # the language quote left out: utf-8'%F0...
            data.extend(unquote_to_bytes(text))
        else:
            data.extend(_unquote(text).encode('utf-8', errors='surrogateescape'))
    raw = bytes(data)
    if raw.isascii() and '=?' in raw.decode('ascii'):
        return decode_words(raw.decode('ascii'), hints)
    decoded = decode_bytes(raw, charset or None, hints)
    return decode_words(decoded, hints) if '=?' in decoded else decoded
