"""The rules of outbound channels: what may be saved, what a test checks, which channel a ticket's reply uses.

- `ses` (also what a queue without `reply_via` uses): the From address must be on an SES identity verified
  for sending, checked when the channel is saved.
- `smtp`: host and port must pass the public-address and port rules when saved; the password goes to
  Secrets Manager (`dal.secrets`) and only its name is stored. `check_channel` connects and logs in
  without sending and answers what failed.
- A channel a queue replies through is not deleted (`ChannelInUseError` names the queues).

The status is `active` after a save or a test that passed, `needs_attention` with the reason after a
test that failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from inboxdesk import ids, resources
from inboxdesk.dal import channels as channel_store
from inboxdesk.dal import queues as queue_store
from inboxdesk.dal import secrets
from inboxdesk.errors import ChannelInUseError, InvalidRequestError, NotFoundError, SendError
from inboxdesk.models import (
    CHANNEL_KINDS,
    CREATABLE_CHANNEL_KINDS,
    TLS_MODES,
    Channel,
    ChannelStatus,
    Queue,
    SmtpEndpoint,
)

if TYPE_CHECKING:
    from inboxdesk.integrations.smtp import SmtpSettings


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """What a test found: `stage` names the step that failed (None when everything passed)."""

    ok: bool
    stage: str | None
    detail: str


def _refuse_kind(kind: str) -> None:
    if kind in CHANNEL_KINDS and kind not in CREATABLE_CHANNEL_KINDS:
        raise InvalidRequestError(
            f'kind: {kind} channels are created by connecting the mailbox, not here; use ses or smtp'
        )
    if kind not in CREATABLE_CHANNEL_KINDS:
        raise InvalidRequestError(f'kind: must be one of {", ".join(CREATABLE_CHANNEL_KINDS)}, not {kind!r}')


def _ses_problem(address: str) -> str | None:
    from inboxdesk.integrations.ses_identity import sending_problem

    return sending_problem(address)


def smtp_allow_list() -> frozenset[str]:
    """Hosts exempt from the public-address and port rules (`SMTP_HOST_ALLOW_LIST`: the dev catcher only)."""
    value = os.environ.get(resources.ENV_SMTP_HOST_ALLOW_LIST, '')
    return frozenset(h.strip().lower() for h in value.split(',') if h.strip())


def _endpoint_problem(host: str, port: int) -> str | None:
    """The public-address and port rules (the host is resolved, no connection is made): None when it may
    be used, else the field at fault and why."""
    from inboxdesk.integrations import smtp

    try:
        smtp.checked_addresses(host, port, smtp_allow_list())
    except SendError as exc:
        field = 'smtp.port' if port not in smtp.ALLOWED_PORTS else 'smtp.host'
        return f'{field}: {exc.reason}'
    return None


def smtp_settings(endpoint: SmtpEndpoint) -> SmtpSettings:
    """What the SMTP transport needs, the password read from Secrets Manager."""
    from inboxdesk.integrations.smtp import SmtpSettings

    password = secrets.get_channel_password(endpoint.secret_name)
    return SmtpSettings(
        host=endpoint.host, port=endpoint.port, tls=endpoint.tls_mode, username=endpoint.username, password=password
    )


def _check_smtp(endpoint: SmtpEndpoint) -> ChannelCheck:
    """Connect, start TLS and log in, without sending."""
    from inboxdesk.integrations import smtp

    try:
        smtp.check(smtp_settings(endpoint), allow_list=smtp_allow_list())
    except SendError as exc:
        return ChannelCheck(ok=False, stage=exc.stage, detail=exc.reason)
    return ChannelCheck(ok=True, stage=None, detail=f'connected to {endpoint.host} and logged in')


def _checked(channel: Channel) -> None:
    """InvalidRequestError naming the field when the channel may not be saved as it is."""
    if channel.kind == 'ses':
        if problem := _ses_problem(channel.from_address):
            raise InvalidRequestError(f'from_address: {problem}')
        return
    smtp = channel.smtp
    if smtp is None:
        raise InvalidRequestError('smtp: an smtp channel needs host, port, tls_mode, username and password')
    if smtp.tls_mode not in TLS_MODES:
        raise InvalidRequestError(f'smtp.tls_mode: must be one of {", ".join(TLS_MODES)}')
    if problem := _endpoint_problem(smtp.host, smtp.port):
        raise InvalidRequestError(problem)


def list_channels() -> list[Channel]:
    return channel_store.list_channels()


def get_channel(channel_id: str) -> Channel:
    """NotFoundError when there is no such channel."""

    return channel_store.get_channel(channel_id)


def create_channel(
    *, kind: str, from_address: str, display_name: str = '', smtp: dict[str, Any] | None = None
) -> Channel:
    """A new channel after its checks; `smtp` holds host, port, tls_mode, username and password."""

    _refuse_kind(kind)
    if kind == 'ses' and smtp:
        raise InvalidRequestError('smtp: only an smtp channel has smtp settings')
    channel_id = ids.new_id()
    now = ids.now_iso()
    endpoint = None
    password = None
    if kind == 'smtp':
        fields = dict(smtp or {})
        password = fields.pop('password', None)
        missing = [f for f in ('host', 'port', 'tls_mode', 'username') if not fields.get(f)]
        if missing or not password:
            raise InvalidRequestError(f'smtp: missing {", ".join([*missing, *([] if password else ["password"])])}')
        endpoint = SmtpEndpoint(secret_name=secrets.channel_secret_name(channel_id), **fields)
    channel = Channel(
        id=channel_id,
        kind=kind,  # type: ignore[arg-type]  # checked by _refuse_kind
        from_address=from_address,
        display_name=display_name,
        status='active',
        status_reason=None,
        smtp=endpoint,
        created_at=now,
        updated_at=now,
    )
    _checked(channel)
    if password is not None:
        secrets.put_channel_password(channel_id, password)
    try:
        return channel_store.create_channel(channel)
    except Exception:
        if endpoint is not None:  # no secret without its channel
            secrets.delete_channel_password(endpoint.secret_name)
        raise


def update_channel(channel_id: str, changes: dict[str, Any]) -> Channel:
    """Change from_address, display_name or smtp settings (a new password replaces the stored one).
    The channel is checked again as changed; its kind never changes."""

    current = channel_store.get_channel(channel_id)
    values = dict(changes)
    smtp_changes = dict(values.pop('smtp', None) or {})
    password = smtp_changes.pop('password', None)
    if smtp_changes or password:
        if current.smtp is None:
            raise InvalidRequestError('smtp: only an smtp channel has smtp settings')
        values['smtp'] = replace(current.smtp, **smtp_changes)
    updated = replace(current, **values, status='active', status_reason=None, updated_at=ids.now_iso())
    _checked(updated)
    if password and updated.smtp is not None:
        secrets.put_channel_password(channel_id, password)
    return channel_store.replace_channel(updated)


def queues_using(channel_id: str) -> list[Queue]:
    return [q for q in queue_store.list_queues() if q.reply_via == channel_id]


def delete_channel(channel_id: str) -> None:
    """ChannelInUseError while a queue replies through it; NotFoundError when there is no such channel.
    The password goes with it."""

    channel = channel_store.get_channel(channel_id)
    users = queues_using(channel_id)
    if users:
        names = ', '.join(sorted(q.name for q in users))
        raise ChannelInUseError(f'queues {names} reply through this channel: point them at another channel first')
    channel_store.delete_channel(channel_id)
    if channel.smtp is not None:
        secrets.delete_channel_password(channel.smtp.secret_name)


def check_channel(channel_id: str) -> tuple[Channel, ChannelCheck]:
    """Check the channel as sending would (smtp: connect and log in, nothing is sent; ses: the identity),
    and record the outcome as its status."""

    channel = channel_store.get_channel(channel_id)
    if channel.kind == 'smtp' and channel.smtp is not None:
        check = _check_smtp(channel.smtp)
    else:
        problem = _ses_problem(channel.from_address)
        check = ChannelCheck(ok=problem is None, stage='identity' if problem else None, detail=problem or 'ok')
    status: ChannelStatus = 'active' if check.ok else 'needs_attention'
    updated = replace(
        channel, status=status, status_reason=None if check.ok else check.detail, updated_at=ids.now_iso()
    )
    return channel_store.replace_channel(updated), check


def require_channel(field: str, channel_id: str | None) -> None:
    """A queue's `reply_via` names an existing channel, or nothing (SES with the stack's default From)."""
    if channel_id is None:
        return
    try:
        get_channel(channel_id)
    except NotFoundError as exc:
        raise InvalidRequestError(f'{field}: there is no channel {channel_id}; see GET /channels') from exc


def channel_for_queue(queue: Queue) -> Channel | None:
    """The channel a reply from `queue` leaves through; None means SES with the stack's default From.
    A ticket that moved queues replies through its current queue's channel: callers pass that queue."""
    if queue.reply_via is None:
        return None
    return get_channel(queue.reply_via)
