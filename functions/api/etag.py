"""Versions as ETags: responses carry `ETag: "<version>"`, changes send it back in `If-Match`.

If-Match uses the strong comparison (RFC 9110, 13.1.1): a weak tag (`W/"3"`) never matches."""

from __future__ import annotations

import re

from inboxdesk.errors import InvalidRequestError, PreconditionFailedError

_ETAG = re.compile(r'^\s*(W/)?"?(\d{1,18})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version in an If-Match header; None when there is none (or `*`)."""
    if value is None or value.strip() in ('', '*'):
        return None
    match = _ETAG.match(value)
    if not match:
        raise InvalidRequestError(f'If-Match must be the ETag you read, like "3"; got {value[:40]!r}')
    if match.group(1):
        raise PreconditionFailedError(f'a weak ETag never matches If-Match: send the ETag you read, like "{match[2]}"')
    return int(match.group(2))
