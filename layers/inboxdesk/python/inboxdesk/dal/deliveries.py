"""Delivery outcomes reported after sending (SES feedback): the message found by a provider's Message-ID,
and a status change applied at most once per event (a `FEEDBACK#<event id>` guard in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from inboxdesk.dal import keys
from inboxdesk.dal.table import GuardItem, MessageItem, Transaction
from inboxdesk.dal.tickets import MessagePointer, lookup_thread
from inboxdesk.errors import DuplicateEventError, PreconditionFailedError
from inboxdesk.ids import normalise_rfc_id

FeedbackOutcome = Literal['applied', 'duplicate', 'changed']


def find_message(message_ids: Sequence[str]) -> MessagePointer | None:
    """The stored message that carries any of `message_ids` (one BatchGetItem of the pointers)."""
    found = lookup_thread(rfc_ids=message_ids, ticket_number=None, guard_keys=[]).pointers
    return next((found[m] for m in (normalise_rfc_id(i) for i in message_ids) if m in found), None)


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
        with Transaction(otherwise=lambda exc: PreconditionFailedError(str(exc))) as tx:
            tx.put(
                GuardItem(
                    keys.feedback_guard_pk(event_id), keys.SINGLE_SK, ticket_id=pointer.ticket_id, message_sk=message_sk
                ),
                condition=GuardItem.pk.does_not_exist(),
                on_conflict=DuplicateEventError(event_id),
            )
            tx.update(
                MessageItem(keys.ticket_pk(pointer.ticket_id), message_sk),
                actions,
                condition=MessageItem.delivery_status == expected_status
                if expected_status is not None
                else MessageItem.delivery_status.does_not_exist(),
                on_conflict=PreconditionFailedError(f'message {pointer.message_id} changed meanwhile'),
            )
    except DuplicateEventError:
        return 'duplicate'
    except PreconditionFailedError:
        return 'changed'
    return 'applied'
