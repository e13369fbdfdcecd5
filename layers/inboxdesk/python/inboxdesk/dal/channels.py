"""Outbound channels: one `ChannelItem` each (`CHANNEL#<c>`, listed on gsi1 `CHANNELS`, see `dal.table`).

The data layer stores what logic decided; an smtp channel's password is not here (`dal.secrets`).
"""

from __future__ import annotations

from typing import Any, cast

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from inboxdesk.dal import keys
from inboxdesk.dal.table import ChannelItem, InboxdeskItem
from inboxdesk.errors import ConflictError, InboxdeskError, NotFoundError
from inboxdesk.models import Channel, ChannelKind, ChannelStatus, SmtpEndpoint, TlsMode


def _to_channel(item: ChannelItem) -> Channel:
    smtp = None
    if item.smtp_host is not None:
        smtp = SmtpEndpoint(
            host=item.smtp_host,
            port=int(item.smtp_port or 0),
            tls_mode=cast(TlsMode, item.smtp_tls_mode),
            username=item.smtp_username or '',
            secret_name=item.secret_name or '',
        )
    return Channel(
        id=item.channel_id,
        kind=cast(ChannelKind, item.kind),
        from_address=item.from_address,
        display_name=item.display_name or '',
        status=cast(ChannelStatus, item.status),
        status_reason=item.status_reason,
        smtp=smtp,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _to_item(channel: Channel) -> ChannelItem:
    smtp = channel.smtp
    return ChannelItem(
        keys.channel_pk(channel.id),
        keys.CHANNEL_SK,
        channel_id=channel.id,
        kind=channel.kind,
        from_address=channel.from_address,
        display_name=channel.display_name,
        status=channel.status,
        status_reason=channel.status_reason,
        smtp_host=smtp.host if smtp else None,
        smtp_port=smtp.port if smtp else None,
        smtp_tls_mode=smtp.tls_mode if smtp else None,
        smtp_username=smtp.username if smtp else None,
        secret_name=smtp.secret_name if smtp else None,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
        gsi1pk=keys.ALL_CHANNELS,
        gsi1sk=f'{channel.created_at}#{channel.id}',
    )


def _save(channel: Channel, condition: Any, refusal: InboxdeskError) -> Channel:
    try:
        _to_item(channel).save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == 'ConditionalCheckFailedException':
            raise refusal from exc
        raise
    return channel


def create_channel(channel: Channel) -> Channel:
    """ConflictError when a channel with this id exists."""
    return _save(channel, ChannelItem.pk.does_not_exist(), ConflictError(f'channel {channel.id} already exists'))


def replace_channel(channel: Channel) -> Channel:
    """Store the changed channel; NotFoundError when it was deleted meanwhile."""
    return _save(channel, ChannelItem.pk.exists(), NotFoundError(f'channel {channel.id} not found'))


def get_channel(channel_id: str) -> Channel:
    """NotFoundError when there is no such channel (one GetItem)."""
    try:
        return _to_channel(ChannelItem.get(keys.channel_pk(channel_id), keys.CHANNEL_SK))
    except DoesNotExist as exc:
        raise NotFoundError(f'channel {channel_id} not found') from exc


def list_channels() -> list[Channel]:
    """Every channel, oldest first (one Query on gsi1 `CHANNELS`)."""
    return [_to_channel(i) for i in InboxdeskItem.gsi1.query(keys.ALL_CHANNELS) if isinstance(i, ChannelItem)]


def delete_channel(channel_id: str) -> None:
    """NotFoundError when there is no such channel."""
    try:
        ChannelItem(keys.channel_pk(channel_id), keys.CHANNEL_SK).delete(condition=ChannelItem.pk.exists())
    except DeleteError as exc:
        if exc.cause_response_code == 'ConditionalCheckFailedException':
            raise NotFoundError(f'channel {channel_id} not found') from exc
        raise
