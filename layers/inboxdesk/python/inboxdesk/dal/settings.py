"""Settings: the outgoing filter's manual addresses and the appearance of outgoing mail.

Each is one small `SettingItem` (`SETTINGS` / `OUTGOING_FILTER` | `APPEARANCE`, see `dal.table`): a
JSON document with its own optimistic version, read with one GetItem and written conditionally.
Read by the API and by the outbound sender (`logic.queues.suppressed` adds the automatic addresses).
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from inboxdesk import ids
from inboxdesk.dal import keys
from inboxdesk.dal.table import SettingItem
from inboxdesk.errors import PreconditionFailedError


def _read(sk: str) -> tuple[dict[str, Any] | None, int]:
    """The stored document and its version (0 when never written)."""
    try:
        item = SettingItem.get(keys.SETTINGS_PK, sk, consistent_read=True)
    except DoesNotExist:
        return None, 0
    return dict(item.data or {}), int(item.version)


def _write(sk: str, data: dict[str, Any], *, expected_version: int, updated_by: str) -> int:
    """Store `data` if the stored version is still `expected_version`; returns the new version."""
    item = SettingItem(
        keys.SETTINGS_PK,
        sk,
        data=data,
        version=expected_version + 1,
        updated_at=ids.now_iso(),
        updated_by=updated_by,
    )
    condition = SettingItem.pk.does_not_exist() if expected_version == 0 else SettingItem.version == expected_version
    try:
        item.save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == 'ConditionalCheckFailedException':
            raise PreconditionFailedError(f'setting {sk.lower()} was changed by someone else') from exc
        raise
    return expected_version + 1


def get_manual_filter() -> tuple[list[str], int]:
    data, version = _read(keys.OUTGOING_FILTER_SK)
    return [str(a) for a in (data or {}).get('addresses', [])], version


def put_manual_filter(addresses: list[str], *, expected_version: int, updated_by: str) -> int:
    return _write(
        keys.OUTGOING_FILTER_SK, {'addresses': addresses}, expected_version=expected_version, updated_by=updated_by
    )


def get_appearance() -> tuple[dict[str, Any] | None, int]:
    return _read(keys.APPEARANCE_SK)


def put_appearance(data: dict[str, Any], *, expected_version: int, updated_by: str) -> int:
    return _write(keys.APPEARANCE_SK, data, expected_version=expected_version, updated_by=updated_by)
