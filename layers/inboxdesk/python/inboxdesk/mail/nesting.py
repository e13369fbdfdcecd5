"""Containers nested too deep for the stdlib parser, cut out before it runs.

The stdlib parses each multipart or message/* level with a nested generator: time grows with
the depth times the size, and past a few hundred levels it raises RecursionError. Before
parsing, a line scan of the header blocks and delimiter lines finds every container nested
`max_depth` or more levels deep; each is replaced by an empty part and returned as bytes, to be
kept as an attachment."""

from __future__ import annotations

import re

from inboxdesk.mail.blobs import boundaries_in

_CONTAINER = re.compile(rb'(?i)(?:multipart|message)/')
_CONTENT_TYPE = re.compile(rb'(?im)^content-type[ \t]*:\s*"?([a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+)')


def cut_deep_nesting(data: bytes, max_depth: int) -> tuple[bytes, list[bytes]]:
    """(data with each container at depth `max_depth` or deeper left empty, the containers cut
    out, headers included, in order). Unchanged when fewer containers are declared."""
    if len(_CONTAINER.findall(data)) < max_depth:
        return data, []
    pieces: list[bytes] = []
    cuts: list[bytes] = []
    # One entry per open container: its boundary (None for message/*), whether it is a digest
    # (whose parts are message/rfc822 unless they say otherwise).
    stack: list[tuple[bytes | None, bool]] = []
    in_header, header_start, kept_from = True, 0, 0
    lines = data.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    number = 0
    while number < len(lines):
        line = lines[number]
        start = offsets[number]
        number += 1
        level, closing = _delimiter(line, stack)
        if level is not None:
            del stack[level if closing else level + 1 :]
            in_header, header_start = not closing, offsets[number]
            continue
        if not in_header:
            continue
        if line.strip(b'\r\n'):
            continue
        # The end of a header block: what kind of entity it opens.
        header = data[header_start:start]
        found = _CONTENT_TYPE.search(header)
        kind = found.group(1).lower() if found else b''
        if not found and stack and stack[-1][1]:
            kind = b'message/rfc822'
        if not kind.startswith((b'multipart/', b'message/')):
            in_header = False
            continue
        if len(stack) >= max_depth:
            end = _next_delimiter(lines, number, stack)
            pieces.append(data[kept_from:header_start] + b'\r\n\r\n')
            cuts.append(data[header_start : offsets[end]])
            kept_from, number, in_header = offsets[end], end, False
            continue
        if kind.startswith(b'message/'):
            stack.append((None, False))
            header_start = offsets[number]  # the attached message's own headers follow
            continue
        stack.append((next(iter(boundaries_in(header)), None), kind == b'multipart/digest'))
        in_header = False
    if not cuts:
        return data, []
    pieces.append(data[kept_from:])
    return b''.join(pieces), cuts


def _delimiter(line: bytes, stack: list[tuple[bytes | None, bool]]) -> tuple[int | None, bool]:
    """(the stack position of the innermost open multipart whose delimiter this line is, whether
    it closes it); (None, False) for any other line."""
    if not line.startswith(b'--') or not stack:
        return None, False
    text = line[2:].rstrip(b' \t\r\n')
    for level in range(len(stack) - 1, -1, -1):
        boundary = stack[level][0]
        if boundary is not None and text in (boundary, boundary + b'--'):
            return level, text != boundary
    return None, False


def _next_delimiter(lines: list[bytes], number: int, stack: list[tuple[bytes | None, bool]]) -> int:
    """The line number of the next delimiter of an open multipart (the end of the data if none)."""
    while number < len(lines):
        if _delimiter(lines[number], stack)[0] is not None:
            return number
        number += 1
    return number
