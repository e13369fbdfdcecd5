"""`read_email`: raw RFC 5322 / MIME bytes in, one immutable `ParsedEmail` out. Never raises.

Stages: input checks (empty, OLE2, mbox, binary) -> large bodies and containers nested deeper
than MAX_NESTING cut out (the latter kept as an attachment) -> stdlib parse with `policy.default`
-> top-level headers re-read from their raw values -> a walk of the whole MIME tree that picks the
text and HTML bodies and lists every other leaf as an attachment (uuencoded blocks and TNEF
expanded) -> HTML bounded (the original attached when cut) and sanitised, text derived from HTML
when there is no plain part -> classify. Work and memory stay linear in the mail's size."""

from __future__ import annotations

import binascii
import codecs
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from inboxdesk.mail import html as html_mod
from inboxdesk.mail.blobs import MAX_NESTING, Blobs, cut_large_bodies
from inboxdesk.mail.charsets import decode_bytes, guess_single_byte_codec, html_meta_charset
from inboxdesk.mail.headers import (
    decode_header_value,
    decode_words,
    message_id_of,
    parse_addresses,
    parse_date,
    parse_msgid_list,
    raw_header_text,
    unfold,
)
from inboxdesk.mail.model import Address, Attachment, Classification, ParsedEmail
from inboxdesk.mail.nesting import cut_deep_nesting
from inboxdesk.mail.params import parse_params
from inboxdesk.mail.payloads import expand_tnef, extension_for, split_uuencoded, unflow

OLE2_MAGIC = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'
GENERATED_DOMAIN = 'inboxdesk.generated'
_HEADER_LINE = re.compile(rb'^[!-9;-~]+[ \t]*:', re.ASCII)
_MBOX_NEXT = re.compile(rb'(?:\r\n|\n|\r)(?:\r\n|\n|\r)From [^\r\n]*(?:\r\n|\n|\r)')
_CID_REF = re.compile(r"""cid:([^"'\s)>;]+)""", re.IGNORECASE)
_SRC_REF = re.compile(r"""(?:src|href|background)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_BODY_TYPES = ('text/plain', 'text/html')
_CONTENT_TYPE = re.compile(r'^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$')
# A delimiter line ("--" + a boundary) directly followed by a header field line.
_GUESSED_DELIMITER = re.compile(
    rb'(?:\A|(?<=\n)|(?<=\r))--([!-~][ -~]{0,68}[!-~])[ \t]*(?:\r\n|\n|\r)[A-Za-z][A-Za-z0-9-]*:'
)
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
ORIGINAL_HTML = 'original.html'
NESTED_PARTS = 'nested-parts.eml'
WHOLE_MAIL = 'message.eml'
_REMEMBERED_HEADER = 1000  # characters; longer values are parsed each time rather than kept


class _ReadPolicy(EmailPolicy):
    """`policy.default` that parses each distinct header value once: the stdlib parser asks for
    every part's Content-Type, and its parent's, several times, and each structured parse is slow
    (3,000 attachments cost seconds)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if not isinstance(value, str) or len(value) > _REMEMBERED_HEADER:
            return super().header_fetch_parse(name, value)
        return _parsed_header(name, value)


@lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


_READ_POLICY = _ReadPolicy()
# Re-serialising an attached message keeps its header lines as they came.
_AS_IS = policy.default.clone(max_line_length=0, refold_source='none')


def _addr_sort_key(address: Address) -> str:
    return address.address


@dataclass
class _Part:
    """What the walk learns about one leaf."""

    content_type: str
    params: dict[str, str]
    disposition: str
    disp_params: dict[str, str]
    content_id: str | None
    content_location: str | None
    cte: str


@dataclass
class _Body:
    """One stretch of the body, in tree order: a text leaf, an HTML leaf, or the text and HTML
    versions a multipart/alternative offers for the same content."""

    text: str | None = None
    html: str | None = None


@dataclass
class _Walk:
    hints: list[str]
    blobs: Blobs = field(default_factory=Blobs)
    depth: int = 0
    # Named text parts shown inline (not `attachment`): the body when nothing else is.
    named_texts: list[tuple[Message, _Part]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    bodies: list[_Body] = field(default_factory=list)
    # (filename or '', content type, bytes, content id, content location, is image)
    leaves: list[tuple[str, str, bytes, str | None, str | None]] = field(default_factory=list)


def read_email(raw: bytes) -> ParsedEmail:
    """Read one raw mail. Never raises: what could not be read is listed in `defects`."""
    try:
        return _read(bytes(raw) if not isinstance(raw, bytes) else raw)
    except Exception as exc:  # noqa: BLE001 - the reader's contract: never raise
        data = raw if isinstance(raw, bytes) else b''
        return _empty(data, [f'reader-error: {type(exc).__name__}'])


def _generated_id(raw: bytes) -> str:
    return f'<{hashlib.sha256(raw).hexdigest()[:32]}@{GENERATED_DOMAIN}>'


def _empty(raw: bytes, defects: list[str]) -> ParsedEmail:
    return ParsedEmail(
        message_id=_generated_id(raw),
        message_id_generated=True,
        in_reply_to=None,
        references=(),
        date=None,
        from_=None,
        reply_to=(),
        to=(),
        cc=(),
        subject='',
        text='',
        html='',
        attachments=(),
        classification=Classification(),
        headers=(),
        defects=tuple(defects),
        size=len(raw),
    )


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b'\x00' in sample:
        return True
    controls = sum(1 for b in sample if b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x0C))
    return controls * 20 > len(sample)


def _prepare(raw: bytes, defects: list[str]) -> bytes | None:
    """The bytes to parse, or None when the input is not mail at all."""
    if not raw.strip():
        defects.append('not-mime: empty input')
        return None
    if raw.startswith(OLE2_MAGIC):
        defects.append('not-mime: ole2 compound file (outlook .msg)')
        return None
    data = raw[3:] if raw.startswith(b'\xef\xbb\xbf') else raw  # a UTF-8 byte order mark from an editor
    if data.startswith(b'From '):
        end = len(data)
        for sep in (b'\n', b'\r'):
            at = data.find(sep)
            if 0 <= at < end:
                end = at
        data = data[end:].lstrip(b'\r\n')
        following = _MBOX_NEXT.search(data)
        if following:
            data = data[: following.start() + 1]
            defects.append('mbox: several messages, read the first')
    if data[:1] in (b'\r', b'\n'):
        stripped = data.lstrip(b'\r\n')
        if _HEADER_LINE.match(stripped):
            data = stripped
    head = data[:4096]
    if not _HEADER_LINE.match(head):
        if _looks_binary(head):
            defects.append('not-mime: binary data')
            return None
        defects.append('not-mime: no header fields')
    return data


@dataclass
class _Envelope:
    """The top-level header fields, read before the body tree."""

    hints: list[str]
    headers: tuple[tuple[str, str], ...]
    subject: str
    message_id: str
    message_id_generated: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    from_: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]


@dataclass
class _Content:
    """What the body tree holds for a reader: text, sanitised HTML and attachments."""

    text: str
    html: str
    attachments: list[Attachment]


def _read(raw: bytes) -> ParsedEmail:
    defects: list[str] = []
    data = _prepare(raw, defects)
    if data is None:
        return _empty(raw, defects)
    data, blobs = cut_large_bodies(data)
    data, too_deep = cut_deep_nesting(data, MAX_NESTING)
    msg = _parse(data, defects)
    del data
    envelope = _read_envelope(msg, raw)
    walk = _Walk(hints=envelope.hints, blobs=blobs)
    content = _read_body(msg, walk, too_deep, raw)
    _collect_defects(msg, walk, defects)
    from_address = envelope.from_.address if envelope.from_ else ''
    classification = _classify(msg, from_address, envelope.subject, defects)
    return _assemble(raw, envelope, content, classification, defects)


def _parse(data: bytes, defects: list[str]) -> EmailMessage:
    try:
        msg = BytesParser(policy=_READ_POLICY).parsebytes(data)
    except Exception as exc:  # noqa: BLE001 - the headers are still worth reading
        defects.append(f'body unreadable: {type(exc).__name__}')
        msg = BytesParser(policy=_READ_POLICY).parsebytes(data, headersonly=True)
    assert isinstance(msg, EmailMessage)
    return msg


def _read_body(msg: EmailMessage, walk: _Walk, too_deep: list[bytes], raw: bytes) -> _Content:
    """The body tree read, with the containers cut out for their depth as attachments; when the
    tree cannot be read at all, the whole mail is its one attachment."""
    try:
        _walk(msg, walk, top_level=True)
        for index, part in enumerate(too_deep, start=1):
            name = NESTED_PARTS if index == 1 else NESTED_PARTS.replace('.', f'-{index}.')
            walk.leaves.append((name, 'message/rfc822', walk.blobs.restore(part), None, None))
            walk.defects.append(f'nesting too deep: inner parts attached as {name}')
        return _read_content(walk)
    except Exception as exc:  # noqa: BLE001 - keep the headers already read and the bytes
        walk.defects.append(f'body unreadable: {type(exc).__name__}: the mail is attached as {WHOLE_MAIL}')
        return _Content(text='', html='', attachments=[_file(WHOLE_MAIL, 'message/rfc822', raw)])


def _read_envelope(msg: EmailMessage, raw: bytes) -> _Envelope:
    top = [(name.lower(), _raw_bytes(value)) for name, value in msg.raw_items()]
    hints = _declared_charsets(msg, top)
    eight_bit = b' '.join(value for _, value in top if not value.isascii())
    if eight_bit and not _is_utf8(eight_bit):
        # One client wrote every raw header: guess their charset from all of them together.
        hints.append(guess_single_byte_codec(eight_bit))

    def first(name: str) -> bytes | None:
        for key, value in top:
            if key == name:
                return value
        return None

    message_id = message_id_of(raw_header_text(first('message-id') or b'', hints))
    in_reply_to_ids = parse_msgid_list(raw_header_text(first('in-reply-to') or b'', hints))
    all_references = b' '.join(value for key, value in top if key == 'references')
    from_list = _addresses(top, 'from', hints)
    return _Envelope(
        hints=hints,
        headers=tuple((name, decode_header_value(value, hints)) for name, value in top),
        subject=decode_header_value(first('subject') or b'', hints),
        message_id=message_id if message_id is not None else _generated_id(raw),
        message_id_generated=message_id is None,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=tuple(parse_msgid_list(raw_header_text(all_references, hints))),
        date=_date(first('date'), hints),
        from_=from_list[0] if from_list else None,
        reply_to=tuple(_addresses(top, 'reply-to', hints)),
        to=tuple(_addresses(top, 'to', hints)),
        cc=tuple(_addresses(top, 'cc', hints)),
    )


def _read_content(walk: _Walk) -> _Content:
    """Text and HTML bodies joined in tree order, attachments (uuencoded blocks in the text
    included), the HTML bounded and sanitised."""
    if not walk.bodies:
        for part, info in walk.named_texts:
            _add_body(walk, _text_of(part, info, walk, html=info.content_type == 'text/html'), info.content_type)
    text, html = _join_bodies(walk.bodies)
    bounded = html_mod.bound(html)
    attachments = _attachments(walk, _referenced(bounded.html) if html else set())
    text, uu_files = split_uuencoded(text)
    for name, payload in uu_files:
        attachments.append(_file(name, _guess_type(name), payload))
    if bounded.cut:
        # What is shown was cut: the whole HTML stays readable as a download.
        walk.defects.append(f'html cut for display: the original is attached as {ORIGINAL_HTML}')
        original = codecs.BOM_UTF8 + html.encode('utf-8', errors='replace')  # the mark outranks a <meta> charset
        attachments.append(_file(ORIGINAL_HTML, 'text/html', original))
    clean_html = html_mod.sanitise(bounded).strip() if html else ''
    return _Content(text=_tidy_text(text), html=clean_html, attachments=attachments)


def _file(name: str, content_type: str, content: bytes) -> Attachment:
    """An attachment the reader made (not a part of the mail's tree)."""
    return Attachment(
        filename=name, content_type=content_type, size=len(content), content_id=None, inline=False, content=content
    )


def _collect_defects(msg: EmailMessage, walk: _Walk, defects: list[str]) -> None:
    """The stdlib's defects of every part (by class name), then the walk's own, each once."""
    for part in msg.walk():
        for defect in getattr(part, 'defects', ()):
            name = type(defect).__name__
            if name not in defects:
                defects.append(name)
    defects.extend(d for d in walk.defects if d not in defects)


def _assemble(
    raw: bytes, envelope: _Envelope, content: _Content, classification: Classification, defects: list[str]
) -> ParsedEmail:
    return ParsedEmail(
        message_id=envelope.message_id,
        message_id_generated=envelope.message_id_generated,
        in_reply_to=envelope.in_reply_to,
        references=envelope.references,
        date=envelope.date,
        from_=envelope.from_,
        reply_to=envelope.reply_to,
        to=envelope.to,
        cc=envelope.cc,
        subject=envelope.subject,
        text=content.text,
        html=content.html,
        attachments=tuple(content.attachments),
        classification=classification,
        headers=envelope.headers,
        defects=tuple(defects),
        size=len(raw),
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


def _classify(msg: EmailMessage, from_address: str, subject: str, defects: list[str]) -> Classification:
    try:
        from inboxdesk.mail.classify import classify

        result = classify(msg, from_address=from_address, subject=subject)
        return result if isinstance(result, Classification) else Classification()
    except Exception as exc:  # noqa: BLE001 - classification must never break reading
        defects.append(f'classify-error: {type(exc).__name__}')
        return Classification()


def _raw_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return str(value).encode('ascii', errors='surrogateescape')
    except UnicodeEncodeError:
        return str(value).encode('utf-8', errors='surrogateescape')


def _declared_charsets(msg: Message, top: list[tuple[str, bytes]]) -> list[str]:
    """Charsets the message declares: part charsets and encoded-word charsets of the top headers."""
    found: list[str] = []
    for value in (v for _, v in top):
        if b'=?' in value:
            found.extend(m.decode('ascii', 'ignore').lower() for m in re.findall(rb'=\?([^?\s*]+)', value))
    for part in msg.walk():
        for name, header in part.raw_items():
            if name.lower() == 'content-type':
                match = re.search(r'charset\s*=\s*"?([^";\s]+)', str(header), re.IGNORECASE)
                if match:
                    found.append(match.group(1).lower())
    return [c for c in dict.fromkeys(found) if c not in ('us-ascii', 'ascii', 'utf-8', 'utf8')]


def _addresses(top: list[tuple[str, bytes]], name: str, hints: list[str]) -> list[Address]:
    result: list[Address] = []
    for key, value in top:
        if key == name:
            result.extend(parse_addresses(raw_header_text(value, hints), hints))
    return result


def _date(value: bytes | None, hints: list[str]) -> datetime | None:
    return parse_date(raw_header_text(value, hints)) if value else None


def _part_headers(part: Message, hints: list[str]) -> _Part:
    ctype_raw = ''
    disp_raw = ''
    cid: str | None = None
    location: str | None = None
    cte = ''
    for name, value in part.raw_items():
        key = name.lower()
        if key == 'content-type' and not ctype_raw:
            ctype_raw = raw_header_text(_raw_bytes(value), hints)
        elif key == 'content-disposition' and not disp_raw:
            disp_raw = raw_header_text(_raw_bytes(value), hints)
        elif key == 'content-id' and cid is None:
            cid = unfold(str(value)).strip().strip('<>').strip() or None
        elif key == 'content-location' and location is None:
            location = unfold(str(value)).strip() or None
        elif key == 'content-transfer-encoding' and not cte:
            cte = unfold(str(value)).strip().strip('"').lower()
    main, params = parse_params(ctype_raw, hints)
    disposition, disp_params = parse_params(disp_raw, hints)
    # The stdlib's rules without its (slow) structured header parsing: no Content-Type gives the
    # default type (message/rfc822 inside multipart/digest), an invalid one gives text/plain.
    if not ctype_raw.strip():
        content_type = part.get_default_type()
    elif _CONTENT_TYPE.match(main):
        content_type = main
    else:
        content_type = 'text/plain'
    return _Part(content_type, params, disposition, disp_params, cid, location, cte)


def _payload_bytes(part: Message, info: _Part, walk: _Walk) -> bytes:
    """The decoded bytes of a leaf, tolerant of broken base64, odd CTE spellings and 8-bit data."""
    # The stored payload itself: get_payload(decode=False) would decode 8-bit text with 'replace'.
    payload = getattr(part, '_payload', None)
    if payload is None or isinstance(payload, list):
        return b''
    original = walk.blobs.lookup(payload) if isinstance(payload, str) else None
    data: bytes | memoryview = original if original is not None else _raw_bytes(payload)
    cte = info.cte
    try:
        if cte == 'base64':
            return _b64(data, walk)
        if cte == 'quoted-printable':
            return binascii.a2b_qp(data)
        if cte in ('x-uuencode', 'uuencode', 'x-uue', 'uue'):
            _, files = split_uuencoded(bytes(data).decode('ascii', errors='surrogateescape'))
            return files[0][1] if files else bytes(data)
    except Exception:  # noqa: BLE001
        walk.defects.append(f'undecodable {cte} part')
    return bytes(data)


def _b64(data: bytes | memoryview, walk: _Walk) -> bytes:
    """Base64 that tolerates what encoders get wrong: missing padding (the last bytes are kept, not
    dropped) and padding in the middle (chunks encoded one by one and concatenated), which the
    stdlib decoder treats as the end of the data."""
    try:
        decoded = binascii.a2b_base64(data)
    except binascii.Error:
        decoded = None
    # Encoded length * 3/4 less line breaks (76 + CRLF): far less decoded means it stopped early.
    if decoded is not None and len(decoded) * 78 >= len(data) * 3 * 76 // 4 * 0.95:
        return decoded
    if decoded is not None and b'=' not in bytes(data).rstrip(b'= \t\r\n'):
        return decoded  # shorter only because of junk characters, not a stop at padding
    walk.defects.append('base64: padding repaired')
    chunks = []
    for chunk in re.split(rb'=+', re.sub(rb'[^A-Za-z0-9+/=]', b'', bytes(data))):
        chunk = chunk[: len(chunk) - 1] if len(chunk) % 4 == 1 else chunk + b'=' * (-len(chunk) % 4)
        try:
            chunks.append(binascii.a2b_base64(chunk))
        except binascii.Error:
            continue
    return b''.join(chunks)


def _text_of(part: Message, info: _Part, walk: _Walk, html: bool) -> str:
    data = _payload_bytes(part, info, walk)
    declared = info.params.get('charset')
    if html and not declared:
        declared = html_meta_charset(data) or None
    text = decode_bytes(data, declared, walk.hints)
    if not html and info.params.get('format', '').lower() == 'flowed':
        text = unflow(text, delsp=info.params.get('delsp', '').lower() == 'yes')
    return text


def _filename(info: _Part) -> str:
    """The part's own file name (Content-Disposition filename first, then Content-Type name),
    without any directory a sender's client put in front of it and without control characters."""
    for source in (info.disp_params, info.params):
        for key in ('filename', 'name'):
            value = source.get(key)
            if value and value.strip():
                name = _CONTROL.sub('', value).replace('\\', '/').rsplit('/', 1)[-1].strip()
                if name and name not in ('.', '..'):
                    return name
    return ''


def _is_body_leaf(info: _Part) -> bool:
    """A text/plain or text/html part meant to be read in place: not an attachment, no file name."""
    return info.content_type in _BODY_TYPES and info.disposition != 'attachment' and not _filename(info)


def _walk(part: Message, walk: _Walk, top_level: bool = False) -> None:
    info = _part_headers(part, walk.hints)
    ctype = info.content_type
    payload = part.get_payload()
    if part.is_multipart() and isinstance(payload, list):
        if ctype.startswith('message/'):
            _add_message_leaf(part, info, walk)
            return
        if walk.depth >= MAX_NESTING:
            walk.defects.append('nesting too deep: inner parts skipped')
            return
        children = [p for p in payload if isinstance(p, Message)]
        children.extend(_epilogue_parts(part, info, walk))
        walk.depth += 1
        try:
            if ctype == 'multipart/alternative':
                _walk_alternative(children, walk)
            elif ctype == 'multipart/related':
                _walk_related(part, children, info, walk)
            else:
                for child in children:
                    _walk(child, walk)
        finally:
            walk.depth -= 1
        return
    if ctype.startswith('multipart/'):
        _walk_unsplit_multipart(part, info, walk)
        return
    if _is_body_leaf(info) or (top_level and ctype in _BODY_TYPES and info.disposition != 'attachment'):
        # A single-part text mail is read in place even when its sender gave it a file name.
        _add_body(walk, _text_of(part, info, walk, html=ctype == 'text/html'), ctype)
        return
    if ctype in _BODY_TYPES and info.disposition != 'attachment':
        walk.named_texts.append((part, info))
    _add_leaf(part, info, walk)


def _walk_unsplit_multipart(part: Message, info: _Part, walk: _Walk) -> None:
    """A multipart whose declared boundary never appears (or none was declared). When the body
    has delimiter lines of another boundary followed by part headers, it is re-read with that
    boundary; otherwise readable content is the text body, and anything else one opaque part."""
    data = _payload_bytes(part, info, walk)
    if not data.strip():
        return
    found = _GUESSED_DELIMITER.search(data) if walk.depth < MAX_NESTING else None
    if found:
        boundary = found.group(1)
        head = b'Content-Type: multipart/mixed; boundary="' + boundary.replace(b'"', b'') + b'"\r\n\r\n'
        reread = BytesParser(policy=_READ_POLICY).parsebytes(head + data)
        children = reread.get_payload()
        if isinstance(children, list) and children:
            walk.defects.append('boundary recovered from the body')
            walk.depth += 1
            try:
                for child in children:
                    if isinstance(child, Message):
                        _walk(child, walk)
            finally:
                walk.depth -= 1
            return
    if not _looks_binary(data[:4096]):
        walk.bodies.append(_Body(text=decode_bytes(data, info.params.get('charset'), walk.hints)))
        return
    walk.leaves.append((_filename(info), 'application/octet-stream', data, info.content_id, None))


def _walk_alternative(children: list[Message], walk: _Walk) -> None:
    """Keep the last alternative that gives HTML and the last that gives plain text; every other
    alternative (a calendar, an AMP or enriched version) is listed as an attachment."""
    results = []
    for child in children:
        sub = _Walk(hints=walk.hints, blobs=walk.blobs, depth=walk.depth)
        _walk(child, sub)
        results.append(sub)
    html_index = max((i for i, r in enumerate(results) if any(b.html is not None for b in r.bodies)), default=None)
    text_index = max(
        (i for i, r in enumerate(results) if r.bodies and all(b.html is None for b in r.bodies)), default=None
    )
    if text_index is None:
        text_index = max((i for i, r in enumerate(results) if any(b.text is not None for b in r.bodies)), default=None)
    chosen = _Body()
    for i, sub in enumerate(results):
        if i == html_index:
            chosen.html = _join_bodies(sub.bodies)[1]
        if i == text_index:
            chosen.text = _join_bodies(sub.bodies, derive=False)[0]
        walk.leaves.extend(sub.leaves)
        walk.defects.extend(sub.defects)
        walk.named_texts.extend(sub.named_texts)
    if chosen.text is not None or chosen.html is not None:
        walk.bodies.append(chosen)


def _add_body(walk: _Walk, content: str, content_type: str) -> None:
    walk.bodies.append(_Body(html=content) if content_type == 'text/html' else _Body(text=content))


def _join_bodies(bodies: list[_Body], derive: bool = True) -> tuple[str, str]:
    """(text, html) of body stretches in order. The text of a stretch that has only HTML is derived
    from it (unless `derive` is false); the HTML of a text-only stretch is its escaped text, and
    only when some stretch has HTML."""
    texts: list[str] = []
    htmls: list[str] = []
    has_html = any(b.html is not None and b.html.strip() for b in bodies)
    for body in _merge_twins(bodies):
        text = body.text if body.text is not None and body.text.strip() else None
        html = body.html if body.html is not None and body.html.strip() else None
        if text is None and html is not None and derive:
            text = html_mod.to_text(html)
        if text is not None and text.strip():
            texts.append(text.strip('\r\n').rstrip())
        if html is not None:
            htmls.append(html)
        elif has_html and text is not None:
            htmls.append(html_mod.text_to_html(text))
    return '\n\n'.join(texts), '\n'.join(htmls)


_NON_WORD = re.compile(r'\W+')


def _merge_twins(bodies: list[_Body]) -> list[_Body]:
    """A text stretch next to an HTML stretch saying the same words is one stretch in two versions:
    a multipart/alternative whose broken boundary (often the outer one reused) made its versions
    siblings of a multipart/mixed."""
    if len(bodies) < 2:
        return bodies
    merged: list[_Body] = []
    for body in bodies:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and (prev.html is None) != (body.html is None)
            and (prev.text is None) != (body.text is None)
        ):
            text, html = (prev.text, body.html) if prev.html is None else (body.text, prev.html)
            if text and html and _same_words(text, html_mod.to_text(html, links=False)):
                merged[-1] = _Body(text=text, html=html)
                continue
        merged.append(body)
    return merged


def _same_words(first: str, second: str) -> bool:
    """Whether two versions of a text say the same (a few letters may differ, as they do between
    the plain and HTML versions some clients write)."""
    a, b = _NON_WORD.sub('', first).lower(), _NON_WORD.sub('', second).lower()
    if a == b:
        return True
    if not a or not b or len(a) > 4000 or len(b) > 4000 or min(len(a), len(b)) < 0.9 * max(len(a), len(b)):
        return False
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.9


def _walk_related(part: Message, children: list[Message], info: _Part, walk: _Walk) -> None:
    if not children:
        return
    start = info.params.get('start', '').strip().strip('<>')
    root_index = 0
    if start:
        for i, child in enumerate(children):
            cid = next((str(v) for k, v in child.raw_items() if k.lower() == 'content-id'), '')
            if unfold(cid).strip('<> ') == start:
                root_index = i
                break
    for i, child in enumerate(children):
        if i == root_index:
            _walk(child, walk)
            continue
        child_info = _part_headers(child, walk.hints)
        if _is_body_leaf(child_info) and not child_info.content_id and not child_info.content_location:
            _walk(child, walk)  # text nothing can reference: more body, not a resource
        else:
            if child.is_multipart() and not child_info.content_type.startswith('message/'):
                _walk(child, walk)
            elif child_info.content_type.startswith('message/'):
                _add_message_leaf(child, child_info, walk)
            else:
                _add_leaf(child, child_info, walk)


def _epilogue_parts(part: Message, info: _Part, walk: _Walk) -> list[Message]:
    """Parts hidden after a premature closing boundary (a broken nested boundary closes the outer
    multipart early): parsed from the epilogue when it still holds delimiter lines."""
    epilogue = part.epilogue
    boundary = info.params.get('boundary', '')
    if not epilogue or not boundary or f'--{boundary}' not in epilogue:
        return []
    delimiter = re.compile(r'^--' + re.escape(boundary) + r'(--)?[ \t]*\r?$', re.MULTILINE)
    sections = delimiter.split(epilogue)
    found: list[Message] = []
    # split() yields text, closing marker ('--' or None), text, ...: a part follows each open delimiter.
    for i in range(1, len(sections) - 1, 2):
        text = sections[i + 1]
        if sections[i] is None and text and text.strip():
            data = text.lstrip('\r\n').encode('ascii', errors='surrogateescape')
            found.append(BytesParser(policy=_READ_POLICY).parsebytes(data))
    if found:
        walk.defects.append('parts recovered after the closing boundary')
    return found


def _add_leaf(part: Message, info: _Part, walk: _Walk) -> None:
    data = _payload_bytes(part, info, walk)
    ctype = info.content_type
    name = _filename(info)
    if ctype == 'application/ms-tnef' or name.lower() == 'winmail.dat':
        files = expand_tnef(data)
        if files:
            for tnef_name, tnef_data in files:
                walk.leaves.append((tnef_name, _guess_type(tnef_name), tnef_data, None, None))
            return
        walk.defects.append('tnef: nothing could be extracted')
    walk.leaves.append((name, ctype, data, info.content_id, info.content_location))


def _add_message_leaf(part: Message, info: _Part, walk: _Walk) -> None:
    """A message/* part kept whole, as an attachment (`<subject>.eml` when it has no name)."""
    payload = part.get_payload()
    data = b''
    inner_subject = ''
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
        try:
            data = walk.blobs.restore(inner.as_bytes(policy=_AS_IS))
        except Exception:  # noqa: BLE001 - fall back to the bytes as stored
            data = _payload_bytes(part, info, walk)
        for key, value in inner.raw_items():
            if key.lower() == 'subject':
                inner_subject = decode_header_value(_raw_bytes(value), walk.hints)
                break
    else:
        data = _payload_bytes(part, info, walk)
    name = _filename(info)
    if not name and info.content_type == 'message/rfc822':
        safe = re.sub(r'\s+', ' ', _UNSAFE_FILENAME.sub(' ', inner_subject)).strip(' .')[:120].strip()
        name = f'{safe}.eml' if safe else 'message.eml'
    walk.leaves.append((name, info.content_type, data, info.content_id, info.content_location))


def _referenced(html: str) -> set[str]:
    refs = {unquote(m).strip().strip('<>').lower() for m in _CID_REF.findall(html)}
    refs.update('loc:' + m.strip().lower() for m in _SRC_REF.findall(html) if not m.lower().startswith('cid:'))
    return refs


def _attachments(walk: _Walk, referenced: set[str]) -> list[Attachment]:
    result: list[Attachment] = []
    for index, (name, ctype, data, cid, location) in enumerate(walk.leaves, start=1):
        inline = bool(
            (cid and cid.lower() in referenced) or (location and 'loc:' + location.strip().lower() in referenced)
        )
        if not name:
            stem = 'image' if ctype.startswith('image/') else 'attachment'
            name = f'{stem}-{index}{extension_for(ctype)}'
        result.append(
            Attachment(filename=name, content_type=ctype, size=len(data), content_id=cid, inline=inline, content=data)
        )
    return result


def _guess_type(name: str) -> str:
    from mimetypes import guess_type

    guessed, _ = guess_type(name, strict=False)
    return guessed or 'application/octet-stream'


def _tidy_text(text: str) -> str:
    if '\r' in text:
        text = text.replace('\r\n', '\n').replace('\r', '\n')
    return text.strip('\n').rstrip()


__all__ = ['read_email', 'decode_words']
