"""Header reading straight from the raw bytes: unfolding, RFC 2047 encoded words, raw 8-bit
values through the charset fallback chain, addresses and Message-IDs.

The stdlib's `policy.default` turns raw 8-bit header bytes into U+FFFD and raises on some
malformed values, so the top-level headers are re-read here from the header block itself."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from inboxdesk.mail.charsets import decode_bytes, normalise_charset
from inboxdesk.mail.model import Address

_FIELD = re.compile(rb'^([!-9;-~]+)[ \t]*:', re.ASCII)
_ENCODED_WORD = re.compile(r'=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=')
_MSGID = re.compile(r'<([^<>\s]+)>')
_MSGID_SPACED = re.compile(r'<([^<>]*[^<>\s][^<>]*)>')  # whitespace inside the brackets is dropped
_BARE_MSGID = re.compile(r'^[^\s<>()@,;]+@[^\s<>()@,;]+$')
_FOLD = re.compile(r'(?:\r\n|\r|\n)[ \t]+|[\r\n]+')
_WSP = re.compile(r'[ \t\r\n]+')


def split_header_block(raw: bytes) -> tuple[bytes, int]:
    """The header block of a message (without the blank line) and the offset where the body starts."""
    best = -1
    sep_len = 0
    for sep in (b'\r\n\r\n', b'\n\n', b'\r\r', b'\n\r\n'):
        at = raw.find(sep, 0, best if best >= 0 else len(raw))
        if at >= 0 and (best < 0 or at < best):
            best, sep_len = at, len(sep)
    if best < 0:
        return raw, len(raw)
    return raw[:best], best + sep_len


def parse_header_block(block: bytes) -> list[tuple[str, bytes]]:
    """(lower-cased name, raw unfolded value) for every field of a header block, in order.
    Lines that are neither a field nor a continuation are skipped."""
    fields: list[tuple[str, bytearray]] = []
    for line in re.split(rb'\r\n|\r|\n', block):
        if not line:
            continue
        if line[:1] in (b' ', b'\t'):
            if fields:
                fields[-1][1].extend(b' ' + line.strip(b' \t'))
            continue
        match = _FIELD.match(line)
        if match is None:
            continue
        fields.append((match.group(1).decode('ascii').lower(), bytearray(line[match.end() :].strip(b' \t'))))
    return [(name, bytes(value)) for name, value in fields]


def _decode_q(text: str) -> bytes:
    data = text.replace('_', ' ').encode('ascii', errors='replace')
    return binascii.a2b_qp(data)


def _decode_b(text: str) -> bytes:
    data = re.sub(r'[^A-Za-z0-9+/]', '', text)
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data + '=' * (-len(data) % 4)
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError):
        return b''


def decode_words(value: str, hints: Iterable[str] = ()) -> str:
    """Decode RFC 2047 encoded words in an (already unfolded) header value.

    Adjacent encoded words are joined (whitespace between them is dropped, as RFC 2047 says) and
    words of one charset are decoded together, so a character split across two words survives."""
    if '=?' not in value:
        return value
    hint_list = list(hints)
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # (charset, bytes) of adjacent encoded words
    pos = 0

    def flush() -> None:
        while pending:
            charset = pending[0][0]
            chunk = bytearray()
            while pending and pending[0][0] == charset:
                chunk.extend(pending.pop(0)[1])
            out.append(_decode_word_bytes(bytes(chunk), charset, hint_list))

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if not (pending and (not between or between.isspace())):
            flush()
            out.append(between)
        charset, encoding, text = match.group(1), match.group(2).lower(), match.group(3)
        data = _decode_q(text) if encoding == 'q' else _decode_b(text)
        pending.append((charset.split('*', 1)[0].lower(), data))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return ''.join(out)


def _decode_word_bytes(data: bytes, charset: str, hints: list[str]) -> str:
    if normalise_charset(charset) == 'utf-7':
        try:
            return data.decode('utf-7')
        except Exception:  # noqa: BLE001 - fall through to the chain
            pass
    return decode_bytes(data, charset, hints)


def unfold(value: str) -> str:
    """Folds (CRLF + WSP) to one space, stray line breaks to a space, trimmed."""
    return _FOLD.sub(' ', value).strip()


def squeeze(value: str) -> str:
    """Every run of whitespace to one space, trimmed (names, ids, parameters)."""
    return _WSP.sub(' ', value).strip()


def decode_header_value(raw: bytes, hints: Iterable[str] = ()) -> str:
    """A raw header value as text: 8-bit bytes through the fallback chain, then encoded words."""
    hint_list = list(hints)
    text = raw.decode('ascii') if raw.isascii() else decode_bytes(raw, None, hint_list)
    return unfold(decode_words(text, hint_list))


def raw_header_text(raw: bytes, hints: Iterable[str] = ()) -> str:
    """A raw header value as text without decoding encoded words (for address lists, where an
    encoded comma must not split a display name)."""
    return raw.decode('ascii') if raw.isascii() else decode_bytes(raw, None, list(hints))


def _split_top(value: str, separators: str) -> list[str]:
    """Split on any of `separators` outside quotes, comments and angle brackets."""
    items: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    depth = angle = 0
    for ch in value:
        if escaped:
            escaped = False
        elif ch == '\\' and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == '(':
            depth += 1
        elif ch == ')' and depth:
            depth -= 1
        elif depth:
            pass
        elif ch == '<':
            angle += 1
        elif ch == '>' and angle:
            angle -= 1
        elif ch in separators and not angle:
            items.append(''.join(buf))
            buf = []
            continue
        buf.append(ch)
    items.append(''.join(buf))
    return items


def _take_comments(text: str) -> tuple[str, list[str]]:
    """Remove (comments) outside quoted strings: (the rest, [comment texts])."""
    rest: list[str] = []
    comments: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    depth = 0
    for ch in text:
        if depth:
            if escaped:
                escaped = False
                current.append(ch)
            elif ch == '\\':
                escaped = True
            elif ch == '(':
                depth += 1
                current.append(ch)
            elif ch == ')':
                depth -= 1
                if depth:
                    current.append(ch)
                else:
                    comments.append(''.join(current).strip())
                    current = []
            else:
                current.append(ch)
            continue
        if quoted:
            if escaped:
                escaped = False
            elif ch == '\\':
                escaped = True
            elif ch == '"':
                quoted = False
            rest.append(ch)
        elif ch == '"':
            quoted = True
            rest.append(ch)
        elif ch == '(':
            depth = 1
        else:
            rest.append(ch)
    if current:
        comments.append(''.join(current).strip())
    return ''.join(rest), [c for c in comments if c]


def _unquote_name(name: str) -> str:
    """A display name without its quoting: quoted strings unescaped, stray quotes dropped."""
    name = name.strip()
    if '"' in name:
        name = re.sub(r'"((?:[^"\\]|\\.)*)"', lambda m: re.sub(r'\\(.)', r'\1', m.group(1)), name)
        name = name.replace('"', '') if name.count('"') == 1 else name
    return squeeze(name)


def _parse_mailbox(item: str, hints: list[str]) -> Address | None:
    item = item.strip()
    if not item:
        return None
    if ':' in item and not item.startswith('"'):
        head, _, tail = item.partition(':')  # group syntax: "Team: a@x, b@y;" / "undisclosed-recipients:;"
        if '<' not in head and '@' not in head and '"' not in head:
            item = tail.strip().rstrip(';').strip()
            if not item:
                return None
    item = item.rstrip(';').strip()
    rest, comments = _take_comments(item)
    open_at = rest.rfind('<')
    if open_at >= 0:
        close_at = rest.find('>', open_at)
        address = rest[open_at + 1 : close_at if close_at >= 0 else len(rest)]
        name = rest[:open_at]
        if not name.strip() and comments:
            name = ' '.join(comments)
    else:
        bare = rest.strip().strip('"').strip()
        tokens = bare.split()
        if len(tokens) > 1 and '@' in tokens[-1]:
            address, name = tokens[-1], ' '.join(tokens[:-1])
        elif '@' in bare or (bare and ' ' not in bare):
            address, name = bare, ''
        else:
            address, name = '', bare
        if not name and comments:
            name = ' '.join(comments)
    address = address.strip().strip('<>').strip().strip('"').strip()
    if address.lower().startswith('mailto:'):
        address = address[7:]
    if address.startswith('@') and ':' in address:
        address = address.rsplit(':', 1)[1]  # an obsolete source route: <@relay.example:user@example.com>
    if '=?' in address:
        address = decode_words(address, hints)
    name = squeeze(decode_words(_unquote_name(name), hints))
    if len(name) > 1 and name[0] == name[-1] == '"' and name.count('"') == 2:
        name = name[1:-1].strip()  # quotes inside an encoded word: =?utf-8?Q?=22Doe=2C_Jane=22?=
    if not name and not address:
        return None
    return Address(name=name, address=address.replace(' ', ''))


def _merge_unquoted_names(items: list[str]) -> list[str]:
    """Rejoin a display name its sender's client left unquoted around a comma (`Smith, John
    <john@example.com>`): an item with neither an address nor a group, followed by a named
    `<address>`, is the first half of that name."""
    merged: list[str] = []
    pending = ''
    for item in items:
        if pending:
            head = item.split('<', 1)[0]
            if '<' in item and head.strip() and '@' not in head and ':' not in head:
                item = pending + ',' + item
            else:
                merged.append(pending)
            pending = ''
        bare = item.strip()
        if bare and not any(ch in bare for ch in '@<>:"()') and ' ' not in bare:
            pending = item
            continue
        merged.append(item)
    if pending:
        merged.append(pending)
    return merged


def parse_addresses(value: str, hints: Iterable[str] = ()) -> list[Address]:
    """Addresses of an address-list header value (encoded words still encoded, so an encoded comma
    never splits a display name). Never raises; `name` is '' when there is none, `address` is ''
    when only a name could be found."""
    hint_list = list(hints)
    value = unfold(value)
    if not value:
        return []
    result: list[Address] = []
    try:
        for item in _merge_unquoted_names(_split_top(value, ',;')):
            parsed = _parse_mailbox(item, hint_list)
            if parsed is not None:
                result.append(parsed)
    except Exception:  # noqa: BLE001 - fall back to the stdlib's reading
        result = [Address(name=decode_words(n, hint_list), address=a) for n, a in getaddresses([value]) if n or a]
    return result


def message_id_of(value: str) -> str | None:
    """A Message-ID in `<...>` form, None when the value holds none."""
    value = unfold(value)
    match = _MSGID.search(value) or _MSGID_SPACED.search(value)
    if match:
        return '<' + _WSP.sub('', match.group(1)) + '>'
    bare = value.strip().strip('<>').strip()
    if bare and _BARE_MSGID.match(bare):
        return f'<{bare}>'
    if bare and ' ' not in bare:
        return f'<{bare}>'
    return None


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def parse_msgid_list(value: str) -> list[str]:
    """Every `<id>` in a References / In-Reply-To value, in order, ignoring whatever lies between
    (comments and quoted strings too: `In-Reply-To: "Joe <joe@example.com>" <id@example.com>`)."""
    if '"' in value or '(' in value:
        bare = _QUOTED.sub(' ', _take_comments(value)[0])
        if _MSGID.search(bare):
            value = bare
    ids = [f'<{m}>' for m in _MSGID.findall(value)]
    if ids:
        return list(dict.fromkeys(ids))
    return [f'<{token}>' for token in unfold(value).split() if _BARE_MSGID.match(token)]


# Zone names parsedate does not know (it knows UT, GMT, Z and the North American ones).
_ZONE_NAMES = {
    'CET': '+0100', 'CEST': '+0200', 'MET': '+0100', 'MEST': '+0200', 'BST': '+0100', 'WET': '+0000',
    'WEST': '+0100', 'EET': '+0200', 'EEST': '+0300', 'MSK': '+0300', 'JST': '+0900', 'KST': '+0900',
    'HKT': '+0800', 'SGT': '+0800', 'AWST': '+0800', 'ACST': '+0930', 'ACDT': '+1030', 'AEST': '+1000',
    'AEDT': '+1100', 'NZST': '+1200', 'NZDT': '+1300', 'HST': '-1000', 'AKST': '-0900', 'AKDT': '-0800',
    'UTC': '+0000',
}  # fmt: skip
_NAMED_ZONE = re.compile(r'(?<![\w+-])(' + '|'.join(_ZONE_NAMES) + r')(?![\w+-])')
_PREFIXED_OFFSET = re.compile(r'\b(?:GMT|UTC|UT)\s*([+-])(\d{1,2}):?(\d{2})?\b')
_COLON_OFFSET = re.compile(r'(?<=[\d\s])([+-])(\d{2}):(\d{2})\b')
_TWELVE_HOUR = re.compile(r'\b(\d{1,2})(:\d{2}(?::\d{2})?)\s*([AaPp])\.?[Mm]\.?(?!\w)')
_ISO_DATE = re.compile(r'^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?$', re.I)


def _twelve_hour(match: re.Match[str]) -> str:
    hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == 'p' else 0)
    return f'{hour:02d}{match.group(2)}'


def parse_date(value: str) -> datetime | None:
    """A Date header as an aware datetime (UTC when no zone is given), None when unreadable.

    Beyond RFC 5322 and its obsolete forms (parsedate): zone names such as CET or AEST, offsets
    written `+01:00` or `GMT+0100`, 12-hour times (`10:00 PM`) and ISO 8601 (`2023-01-03T10:00Z`)."""
    text = squeeze(_take_comments(unfold(value))[0] if '(' in value else unfold(value))
    if not text:
        return None
    text = _PREFIXED_OFFSET.sub(lambda m: f'{m.group(1)}{int(m.group(2)):02d}{m.group(3) or "00"}', text)
    text = _COLON_OFFSET.sub(r'\1\2\3', text)
    text = _NAMED_ZONE.sub(lambda m: _ZONE_NAMES[m.group(1)], text)
    text = _TWELVE_HOUR.sub(_twelve_hour, text)
    parsed: datetime | None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        iso = _ISO_DATE.match(text)
        if iso is None:
            return None
        zone = (iso.group(3) or '').upper().replace('Z', '+0000')
        try:
            parsed = datetime.fromisoformat(f'{iso.group(1)}T{iso.group(2)}{zone[:3]}{":" + zone[-2:] if zone else ""}')
        except ValueError:
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
