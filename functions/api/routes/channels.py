"""Outbound channels: admins only (they hold credentials)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from inboxdesk.logic import channels as logic
from inboxdesk.models.api_channels import (
    Channel,
    ChannelCreate,
    ChannelList,
    ChannelPatch,
    ChannelTest,
    SmtpSettingsOut,
)
from inboxdesk.models.channel import Channel as StoredChannel

from ..access import ADMINS
from ..problems import responses

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped


def to_api(channel: StoredChannel) -> Channel:
    smtp = channel.smtp
    return Channel(
        id=channel.id,
        kind=channel.kind,
        from_address=channel.from_address,
        display_name=channel.display_name,
        status=channel.status,
        status_reason=channel.status_reason,
        smtp=SmtpSettingsOut(host=smtp.host, port=smtp.port, tls_mode=smtp.tls_mode, username=smtp.username)
        if smtp
        else None,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _fields(model: ChannelCreate | ChannelPatch) -> dict[str, Any]:
    """The request as logic takes it, the password unwrapped only here (SecretStr everywhere before)."""
    patch = isinstance(model, ChannelPatch)  # a patch changes what it names; a new channel takes the defaults
    data = model.model_dump(exclude_unset=patch, exclude={'smtp'})
    if model.smtp is not None:
        smtp = model.smtp.model_dump(exclude_unset=patch, exclude={'password'})
        if model.smtp.password is not None:
            smtp['password'] = model.smtp.password.get_secret_value()
        data['smtp'] = smtp
    return data


@router.get('/channels', security=ADMINS, tags=['channels'], responses=responses())
def list_channels() -> ChannelList:
    """Every outbound channel, oldest first. A queue without one replies through SES."""
    return ChannelList(items=[to_api(c) for c in logic.list_channels()])


@router.post('/channels', security=ADMINS, tags=['channels'], responses=responses())
def create_channel(request: ChannelCreate) -> Response[Channel]:
    """A new channel; 422 with the reason when SES may not send from the address or the SMTP host is refused."""
    channel = logic.create_channel(**_fields(request))
    return Response(201, 'application/json', to_api(channel), headers={'Location': f'/channels/{channel.id}'})


@router.get('/channels/<channel_id>', security=ADMINS, tags=['channels'], responses=responses(404))
def get_channel(channel_id: str) -> Channel:
    return to_api(logic.get_channel(channel_id))


@router.patch('/channels/<channel_id>', security=ADMINS, tags=['channels'], responses=responses(404))
def update_channel(channel_id: str, changes: ChannelPatch) -> Channel:
    """Change some fields; the channel is checked again as changed."""
    return to_api(logic.update_channel(channel_id, _fields(changes)))


@router.delete('/channels/<channel_id>', security=ADMINS, tags=['channels'], responses=responses(404, 409))
def delete_channel(channel_id: str) -> Response[Any]:
    """Refused (409, naming them) while queues reply through the channel."""
    logic.delete_channel(channel_id)
    return Response(204, None, '')


@router.post('/channels/<channel_id>/test', security=ADMINS, tags=['channels'], responses=responses(404))
def check_channel(channel_id: str) -> ChannelTest:
    """smtp: connect and log in without sending; ses: the identity. The outcome becomes the channel's status."""
    channel, check = logic.check_channel(channel_id)
    return ChannelTest(ok=check.ok, stage=check.stage, detail=check.detail, channel=to_api(channel))
