"""Keys the stack keeps in Secrets Manager, read through Powertools parameters and cached for a while
(a rotated key is in use within CACHE_SECONDS)."""

from __future__ import annotations

from typing import Final

from inboxdesk import resources
from inboxdesk.config import secret_id

CACHE_SECONDS: Final = 300


def cursor_key() -> bytes:
    """The HMAC key of list cursors (`inboxdesk.cursors`)."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id(resources.ENV_CURSOR_SECRET), max_age=CACHE_SECONDS)
    return value.encode('utf-8') if isinstance(value, str) else bytes(value)
