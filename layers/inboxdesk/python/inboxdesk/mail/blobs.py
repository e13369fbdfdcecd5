"""Large part bodies kept out of the stdlib parser, so a 40 MB mail does not cost 7x its size.

The stdlib holds a whole message as text, splits it into lines and joins them again per part:
several copies of every byte. Before parsing a big message, each large leaf body (found between
the delimiter lines of the boundaries the message declares) is replaced by a one-line token; the
reader then decodes that body straight from the original bytes, once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

BIG_MESSAGE = 512 * 1024  # below this the stdlib's copies cost little: parse as is
BIG_BODY = 32 * 1024

_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_HEADER_END = re.compile(rb'\r\n\r\n|\n\n|\r\r')
_CONTAINER_TYPE = re.compile(rb'(?:(?<=\n)|(?<=\r)|\A)content-type[ \t]*:[ \t]*(?:multipart|message)/', re.IGNORECASE)


@dataclass
class Blobs:
    """Bodies cut out of the message: token -> (start, end) in `source`."""

    source: bytes = b''
    token: str = field(default_factory=lambda: f'INBOXDESK-BLOB-{secrets.token_hex(8)}-')
    spans: list[tuple[int, int]] = field(default_factory=list)

    def lookup(self, payload: str) -> memoryview | None:
        """The original body bytes a payload stands for, None for an ordinary payload."""
        if not self.spans or len(payload) > 80:
            return None
        text = payload.strip()
        if not text.startswith(self.token):
            return None
        try:
            start, end = self.spans[int(text[len(self.token) :])]
        except (ValueError, IndexError):
            return None
        return memoryview(self.source)[start:end]

    def restore(self, data: bytes) -> bytes:
        """Serialised bytes with every token replaced by the body it stands for."""
        if not self.spans or self.token.encode() not in data:
            return data
        pattern = re.compile(re.escape(self.token.encode()) + rb'(\d+)')

        def original(match: re.Match[bytes]) -> bytes:
            start, end = self.spans[int(match.group(1))]
            return self.source[start:end]

        return pattern.sub(original, data)


def _delimiters(data: bytes) -> re.Pattern[bytes] | None:
    boundaries = {m.group(1) or m.group(2) for m in _BOUNDARY_PARAM.finditer(data)}
    boundaries.discard(b'')
    if not boundaries:
        return None
    alternatives = b'|'.join(re.escape(b) for b in sorted(boundaries, key=len, reverse=True))
    return re.compile(rb'(?:(?<=\n)|(?<=\r))--(?:' + alternatives + rb')(--)?[ \t]*(?=\r\n|\n|\r|\Z)')


def _line_end_before(data: bytes, pos: int) -> int:
    """Where the line break that precedes `pos` starts (it belongs to the delimiter)."""
    if pos >= 2 and data[pos - 2 : pos] == b'\r\n':
        return pos - 2
    if pos >= 1 and data[pos - 1 : pos] in (b'\n', b'\r'):
        return pos - 1
    return pos


def cut_large_bodies(data: bytes) -> tuple[bytes, Blobs]:
    """(bytes to parse, the bodies cut out of them). Unchanged when the message is small."""
    blobs = Blobs(source=data)
    if len(data) < BIG_MESSAGE:
        return data, blobs
    pieces: list[bytes] = []
    pos = 0
    # (body start, body end) candidates: the top-level body, then every part after a delimiter.
    candidates: list[tuple[int, int]] = []
    top_end = _HEADER_END.search(data)
    if top_end is None:
        return data, blobs
    delimiter = _delimiters(data[: top_end.start()]) and _delimiters(data)
    if delimiter is None:
        if not _CONTAINER_TYPE.search(data[: top_end.start()]):
            candidates.append((top_end.end(), len(data)))
    else:
        matches = list(delimiter.finditer(data))
        for current, following in zip(matches, [*matches[1:], None], strict=True):
            if current.group(1):  # a closing delimiter: what follows is an epilogue
                continue
            seg_start = current.end()
            seg_end = following.start() if following else len(data)
            head_end = _HEADER_END.search(data, seg_start, seg_end)
            if head_end is None or _CONTAINER_TYPE.search(data, seg_start, head_end.start() + 1):
                continue
            body_end = _line_end_before(data, seg_end) if following else seg_end
            candidates.append((head_end.end(), body_end))
    for start, end in candidates:
        if end - start < BIG_BODY:
            continue
        pieces.append(data[pos:start])
        pieces.append(f'{blobs.token}{len(blobs.spans)}'.encode())
        blobs.spans.append((start, end))
        pos = end
    if not blobs.spans:
        return data, blobs
    pieces.append(data[pos:])
    return b''.join(pieces), blobs
