"""The reply sender's claim on an outbound message (`SendClaimItem`, `TICKET#<t>` / `SEND#<m>`), written in
the same transactions as the message's delivery status, so sending happens at most once:

    claim (queued -> sending, lease) -> hand_over (just before the provider call) -> finish (sent | failed |
    suppressed, with the provider's ids) or release (a transient failure: back to queued, no claim)

A claim that handed over and never finished is an unknown outcome: the provider may have the mail, so it
is never sent again (`logic.delivery` decides what to show). A claim that never handed over may be taken
over once its lease has passed (the attempt died before the provider saw anything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.transactions import TransactWrite

from inboxdesk import ids
from inboxdesk.dal import keys, outbox
from inboxdesk.dal.table import (
    MessageIdItem,
    MessageItem,
    SendClaimItem,
    TransactWriteError,
    connection,
)
from inboxdesk.errors import ConflictError
from inboxdesk.models import Message

ClaimState = Literal['claimed', 'finished', 'busy', 'handed_over']


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    attempt_id: str  # ours when claimed, else the claim found


def _iso(at: datetime) -> str:
    return at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _claim_item(message: Message, attempt_id: str = '') -> SendClaimItem:
    return SendClaimItem(keys.ticket_pk(message.ticket_id), keys.send_claim_sk(message.id), attempt_id=attempt_id)


def _message_item(message: Message) -> MessageItem:
    return MessageItem(keys.ticket_pk(message.ticket_id), keys.message_sk(message.id))


def claim(message: Message, *, attempt_id: str, now: datetime, lease: timedelta) -> Claim:
    """Take the message for sending: one transaction (the claim, and the message queued -> sending)."""
    item = _claim_item(message, attempt_id)
    item.lease_until = _iso(now + lease)
    takeover = (
        SendClaimItem.handed_over_at.does_not_exist()
        & SendClaimItem.outcome.does_not_exist()
        & (SendClaimItem.lease_until < _iso(now))
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(item, condition=SendClaimItem.pk.does_not_exist() | takeover)
            tx.update(
                _message_item(message),
                actions=[MessageItem.delivery_status.set('sending')],
                condition=MessageItem.delivery_status.is_in('queued', 'sending'),
            )
    except TransactWriteError:
        return _current(message)
    return Claim('claimed', attempt_id)


def _current(message: Message) -> Claim:
    try:
        found = SendClaimItem.get(
            keys.ticket_pk(message.ticket_id), keys.send_claim_sk(message.id), consistent_read=True
        )
    except DoesNotExist:
        return Claim('finished', '')  # no claim, and the message is neither queued nor sending
    if found.outcome:
        return Claim('finished', found.attempt_id)
    if found.handed_over_at:
        return Claim('handed_over', found.attempt_id)
    return Claim('busy', found.attempt_id)


def hand_over(message: Message, attempt_id: str) -> None:
    """Record that the mail goes to the provider now. ConflictError when the claim is no longer ours."""
    try:
        _claim_item(message).update(
            actions=[SendClaimItem.handed_over_at.set(ids.now_iso())],
            condition=(SendClaimItem.attempt_id == attempt_id) & SendClaimItem.outcome.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != 'ConditionalCheckFailedException':
            raise
        raise ConflictError('another attempt took over this reply') from exc


def finish(
    message: Message,
    attempt_id: str,
    *,
    status: Literal['sent', 'failed', 'suppressed'],
    reason: str | None,
    provider_id: str | None = None,
    provider_message_ids: Sequence[str] = (),
) -> None:
    """The outcome, in one transaction: the claim closed, the message's status, reason and provider ids,
    a Message-ID pointer per provider id (answers naming only those thread), and the outbox entry gone."""
    provider_ids = [ids.normalise_rfc_id(m) for m in provider_message_ids]
    actions: list[Any] = [
        MessageItem.delivery_status.set(status),
        MessageItem.delivery_reason.set(reason) if reason else MessageItem.delivery_reason.remove(),
    ]
    if provider_ids:
        merged = list(dict.fromkeys([*message.provider_message_ids, *provider_ids]))
        actions.append(MessageItem.provider_message_ids.set(merged))  # type: ignore[arg-type]
    claim_actions: list[Any] = [SendClaimItem.outcome.set(status), SendClaimItem.finished_at.set(ids.now_iso())]
    if provider_id:
        claim_actions.append(SendClaimItem.provider_id.set(provider_id))
    with TransactWrite(connection=connection()) as tx:
        tx.update(_claim_item(message), actions=claim_actions, condition=SendClaimItem.attempt_id == attempt_id)
        tx.update(_message_item(message), actions=actions, condition=MessageItem.pk.exists())
        for rfc_id in provider_ids:
            tx.save(
                MessageIdItem(
                    keys.message_id_pk(rfc_id),
                    keys.SINGLE_SK,
                    ticket_id=message.ticket_id,
                    message_sk=keys.message_sk(message.id),
                )
            )
        tx.delete(outbox.outbox_item(message))


def release(message: Message, attempt_id: str, *, reason: str) -> None:
    """Give the message back (a transient failure: the provider did not take it): queued again, no claim."""
    with TransactWrite(connection=connection()) as tx:
        tx.delete(_claim_item(message), condition=SendClaimItem.attempt_id == attempt_id)
        tx.update(
            _message_item(message),
            actions=[MessageItem.delivery_status.set('queued'), MessageItem.delivery_reason.set(reason)],
            condition=MessageItem.delivery_status == 'sending',
        )
