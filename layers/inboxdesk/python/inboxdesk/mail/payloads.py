"""Payload expansions: uuencoded blocks inside text bodies, TNEF (winmail.dat) containers, and
file extensions for attachments that carry no name."""

from __future__ import annotations

import binascii
import re

_UU_BEGIN = re.compile(r'^begin(?:-base64)? +([0-7]{3,4}) +(\S[^\r\n]*?)[ \t]*$', re.MULTILINE)
_UU_END = re.compile(r'^end[ \t]*$', re.MULTILINE)

_EXTENSIONS = {
    'text/plain': '.txt',
    'text/html': '.html',
    'text/calendar': '.ics',
    'application/ics': '.ics',
    'text/csv': '.csv',
    'text/xml': '.xml',
    'text/rfc822-headers': '.txt',
    'message/rfc822': '.eml',
    'message/delivery-status': '.txt',
    'message/disposition-notification': '.txt',
    'message/feedback-report': '.txt',
    'application/octet-stream': '.bin',
    'application/pgp-signature': '.asc',
    'application/pgp-encrypted': '.asc',
    'application/pkcs7-signature': '.p7s',
    'application/x-pkcs7-signature': '.p7s',
    'application/pkcs7-mime': '.p7m',
    'application/x-pkcs7-mime': '.p7m',
    'application/ms-tnef': '.dat',
    'image/jpeg': '.jpg',
    'image/jpg': '.jpg',
    'image/pjpeg': '.jpg',
    'image/png': '.png',
    'image/gif': '.gif',
    'application/pdf': '.pdf',
    'application/zip': '.zip',
}


def extension_for(content_type: str) -> str:
    """A file extension for a content type ('.bin' when nothing fits)."""
    if content_type in _EXTENSIONS:
        return _EXTENSIONS[content_type]
    from mimetypes import guess_extension

    if content_type.startswith(('text/', 'message/')):
        return '.txt'
    return guess_extension(content_type, strict=False) or '.bin'


def _uu_line(line: str) -> bytes:
    if not line:
        return b''
    raw = line.encode('latin-1', errors='replace')
    try:
        return binascii.a2b_uu(raw)
    except binascii.Error:
        # Some encoders pad short lines badly: decode only the bytes the length byte announces.
        nbytes = (((raw[0] - 32) & 63) * 4 + 5) // 3
        try:
            return binascii.a2b_uu(raw[:nbytes])
        except binascii.Error:
            return b''


def split_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(text without its uuencoded blocks, [(file name, bytes)]) for `begin 644 name ... end` blocks."""
    if 'begin ' not in text:
        return text, []
    files: list[tuple[str, bytes]] = []
    pieces: list[str] = []
    pos = 0
    for begin in _UU_BEGIN.finditer(text):
        if begin.start() < pos:
            continue
        end = _UU_END.search(text, begin.end())
        if end is None:
            break
        body = text[begin.end() : end.start()]
        lines = [ln.strip('\r') for ln in body.split('\n')]
        lines = [ln for ln in lines if ln]
        if not lines or any(not _looks_uu(ln) for ln in lines):
            continue
        data = b''.join(_uu_line(ln) for ln in lines)
        files.append((begin.group(2).strip().strip('"'), data))
        before = text[pos : begin.start()]
        pieces.append(before.rstrip('\r\n') + '\n\n' if before.strip() else '')
        pos = end.end()
        while pos < len(text) and text[pos] in '\r\n':
            pos += 1
    if not files:
        return text, []
    pieces.append(text[pos:])
    return ''.join(pieces), files


_UU_LINE = re.compile(r'^[ -`]{1,90}$')


def _looks_uu(line: str) -> bool:
    return _UU_LINE.match(line) is not None


def expand_tnef(data: bytes) -> list[tuple[str, bytes]]:
    """The files inside a TNEF container (winmail.dat); [] when none can be read."""
    if len(data) < 6 or data[:4] != b'\x78\x9f\x3e\x22':
        return []
    try:
        from tnefparse import TNEF

        tnef = TNEF(data, do_checksum=False)
    except Exception:  # noqa: BLE001 - a broken container is kept as it is
        return []
    files: list[tuple[str, bytes]] = []
    for index, attachment in enumerate(getattr(tnef, 'attachments', []) or [], start=1):
        try:
            name = attachment.long_filename() or attachment.name
        except Exception:  # noqa: BLE001
            name = ''
        if isinstance(name, bytes):
            name = name.decode('utf-8', errors='replace')
        name = str(name or '').strip('\x00 ').strip() or f'attachment-{index}.bin'
        payload = getattr(attachment, 'data', b'') or b''
        files.append((name, bytes(payload)))
    return files


def unflow(text: str, delsp: bool = False) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676): a line ending in a space
    continues on the next line of the same quote depth. Space-stuffing is removed."""
    if not text:
        return text
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for raw_line in text.replace('\r\n', '\n').split('\n'):
        stripped = raw_line.lstrip('>')
        depth = len(raw_line) - len(stripped)
        if stripped.startswith(' '):
            stripped = stripped[1:]  # space-stuffing (or the space after the quote marks)
        flowed = stripped.endswith(' ') and stripped != '-- '
        if delsp and flowed:
            stripped = stripped[:-1]
        if current is not None and depth == current_depth:
            current += stripped
        else:
            if current is not None:
                out.append('>' * current_depth + (' ' if current_depth else '') + current)
            current, current_depth = stripped, depth
        if not flowed:
            out.append('>' * current_depth + (' ' if current_depth and current else '') + current)
            current, current_depth = None, -1
    if current is not None:
        out.append('>' * current_depth + (' ' if current_depth else '') + current)
    return '\n'.join(out)
