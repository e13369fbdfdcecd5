"""Delivery outcomes reported after sending (SES feedback): the message found by a provider's Message-ID,
and a status change applied at most once per event (a `FEEDBACK#<event id>` guard in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pynamodb.transactions import TransactWrite

from inboxdesk.dal import keys
from inboxdesk.dal.table import GuardItem, MessageItem, TransactWriteError, cancellation_codes, connection
from inboxdesk.dal.tickets import MessagePointer, lookup_thread

FeedbackOutcome = Literal['applied', 'duplicate', 'changed']


def find_message(message_ids: Sequence[str]) -> MessagePointer | None:
    """The stored message that carries any of `message_ids` (one BatchGetItem of the pointers)."""
    found = lookup_thread(message_ids=message_ids, ticket_number=None, guard_keys=[]).pointers
    return next((found[m] for m in (keys.normalise_message_id(i) for i in message_ids) if m in found), None)


def apply_feedback(
    pointer: MessagePointer, *, event_id: str, expected_status: str | None, status: str, reason: str | None
) -> FeedbackOutcome:
    """Set the message's status and reason (None clears it), if it still has `expected_status` and this event was never
    applied: `duplicate` when it was, `changed` when the status moved meanwhile (read it again)."""
    message_sk = keys.message_sk(pointer.message_id)
    actions: list[Any] = [
        MessageItem.delivery_status.set(status),
        MessageItem.delivery_reason.set(reason) if reason else MessageItem.delivery_reason.remove(),
    ]
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(
                GuardItem(
                    keys.feedback_guard_pk(event_id), keys.SINGLE_SK, ticket_id=pointer.ticket_id, message_sk=message_sk
                ),
                condition=GuardItem.pk.does_not_exist(),
            )
            tx.update(
                MessageItem(keys.ticket_pk(pointer.ticket_id), message_sk),
                actions=actions,
                condition=MessageItem.delivery_status == expected_status
                if expected_status is not None
                else MessageItem.delivery_status.does_not_exist(),
            )
    except TransactWriteError as exc:
        codes = cancellation_codes(exc)
        if codes and codes[0] == 'ConditionalCheckFailed':
            return 'duplicate'
        if len(codes) > 1 and codes[1] == 'ConditionalCheckFailed':
            return 'changed'
        raise
    return 'applied'
