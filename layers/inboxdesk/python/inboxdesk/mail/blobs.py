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
MAX_NESTING = 40  # container levels read; deeper ones are cut out whole (`nesting`)

_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_HEADER_END = re.compile(rb'\r\n\r\n|\n\n|\r\r')
_MESSAGE_TYPE = re.compile(rb'(?:(?<=\n)|(?<=\r)|\A)content-type[ \t]*:[ \t]*message/', re.IGNORECASE)
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


def boundaries_in(block: bytes) -> set[bytes]:
    found = {m.group(1) or m.group(2) for m in _BOUNDARY_PARAM.finditer(block)}
    found.discard(b'')
    return found


def _find_delimiters(data: bytes, boundaries: set[bytes]) -> list[tuple[int, int, bool]]:
    """(start, end, closing) of every delimiter line of the given boundaries, in order.

    Plain `bytes.find` per boundary: a regex with look-behinds would crawl over 40 MB."""
    found: list[tuple[int, int, bool]] = []
    size = len(data)
    for boundary in boundaries:
        marker = b'--' + boundary
        at = data.find(marker)
        while at >= 0:
            end = at + len(marker)
            if at == 0 or data[at - 1] in (0x0A, 0x0D):
                closing = data[end : end + 2] == b'--'
                tail = end + 2 if closing else end
                while tail < size and data[tail] in (0x20, 0x09):
                    tail += 1
                if tail >= size or data[tail] in (0x0A, 0x0D):
                    found.append((at, tail, closing))
            at = data.find(marker, end)
    found.sort()
    return found


def _segments(data: bytes, boundaries: set[bytes]) -> list[tuple[int, int, int, bool]]:
    """(header start, header end, segment end, more follow) of each part between delimiters."""
    delimiters = _find_delimiters(data, boundaries)
    result = []
    for index, (_, end, closing) in enumerate(delimiters):
        if closing:  # what follows a closing delimiter is an epilogue
            continue
        following = delimiters[index + 1][0] if index + 1 < len(delimiters) else len(data)
        head_end = _HEADER_END.search(data, end, following)
        if head_end is not None:
            result.append((end, head_end.end(), following, index + 1 < len(delimiters)))
    return result


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
    boundaries = boundaries_in(data[: top_end.start()])
    if not boundaries:
        if not _CONTAINER_TYPE.search(data[: top_end.start()]):
            candidates.append((top_end.end(), len(data)))
    else:
        # Boundaries of nested multiparts are declared in part headers (or in the headers of an
        # attached message): find them segment by segment until no new one appears.
        for _ in range(MAX_NESTING):  # a level per round: deeper boundaries stay uncut
            segments = _segments(data, boundaries)
            new: set[bytes] = set()
            for head_start, body_start, _, _ in segments:
                new |= boundaries_in(data[head_start:body_start])
                if _MESSAGE_TYPE.search(data, head_start, body_start):
                    inner_end = _HEADER_END.search(data, body_start, min(body_start + 65536, len(data)))
                    new |= boundaries_in(data[body_start : inner_end.start() if inner_end else body_start])
            if not new - boundaries:
                break
            boundaries |= new
        for head_start, body_start, seg_end, more in segments:
            if _CONTAINER_TYPE.search(data, head_start, body_start):
                continue
            candidates.append((body_start, _line_end_before(data, seg_end) if more else seg_end))
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
