"""Sending an agent's reply: `deliver_reply(job)`, called once per outbound job (the reply Lambda).

Exactly once: the message is claimed (queued -> sending, with a lease), the claim records the moment the
mail is handed to the provider, and the outcome is written with the provider's ids in one transaction
(`dal.sending`). A job that finds the reply already finished does nothing. A job that finds a claim that
handed over but never finished (the sender died between the provider's acceptance and our write) does not
send again: the provider may well have delivered it, and a second copy is worse than asking. The message
becomes `failed` with an "unknown outcome" reason for the agent to check. A claim that never handed over
is taken over once its lease has passed.

Then: compose (From the channel's address, or the queue's own address through SES; Reply-To the queue's
address with the signed reply token in its plus part; threading headers from the conversation; the
quoted customer message; the appearance settings; attachments streamed from S3), filter the recipients
(nobody left -> `suppressed`), send through the queue's channel and record the outcome: `sent` with the
provider's ids, `failed` on a permanent error, or released for SQS to retry on a transient one, until the
last receive, which ends `failed` with the last reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from inboxdesk import reply_tokens
from inboxdesk.config import outbound_settings
from inboxdesk.dal import mail_store, secrets, sending
from inboxdesk.dal import queues as queue_store
from inboxdesk.dal import settings as settings_store
from inboxdesk.dal import tickets as ticket_store
from inboxdesk.errors import ConflictError, NotFoundError, PermanentSendError, TransientSendError
from inboxdesk.logic.channels import channel_for_queue, smtp_settings
from inboxdesk.logic.recipients import deliverable, recipient_filter
from inboxdesk.mail.compose import MailAppearance, OutgoingAttachment, OutgoingMail, QuotedMessage, compose
from inboxdesk.models import Channel, Message, Queue, ReplyJob, Ticket

if TYPE_CHECKING:
    from inboxdesk.integrations.transport import Transport


ReplyOutcome = Literal['sent', 'failed', 'suppressed', 'already_done', 'unknown_outcome', 'retry']
LEASE: Final = timedelta(seconds=90)  # longer than one attempt may run (the function's timeout)
MAX_REFERENCES: Final = 20
UNKNOWN_OUTCOME: Final = (
    'unknown outcome: the sender stopped after handing the mail to the provider and before recording the '
    'answer; it was probably delivered. It is not sent again automatically: check with the customer.'
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """Where this job stands in SQS's retries: the last receive ends the message as failed."""

    receive_count: int
    max_receives: int

    @property
    def last(self) -> bool:
        return self.receive_count >= self.max_receives


def deliver_reply(job: ReplyJob, attempt: Attempt, *, clock: type[datetime] = datetime) -> ReplyOutcome:
    """Send the queued reply of `job` at most once. Raises TransientSendError for SQS to retry (not on the
    last receive, which records `failed`)."""

    message = ticket_store.get_message(job.ticket_id, job.message_id)
    if message.delivery_status not in ('queued', 'sending'):
        return 'already_done'
    attempt_id = uuid.uuid4().hex
    claim = sending.claim(message, attempt_id=attempt_id, now=clock.now(UTC), lease=LEASE)
    if claim.state == 'finished':
        return 'already_done'
    if claim.state == 'handed_over':
        sending.finish(message, claim.attempt_id, status='failed', reason=UNKNOWN_OUTCOME)
        return 'unknown_outcome'
    if claim.state == 'busy':  # another attempt is sending it now: look again later
        raise TransientSendError('another attempt is sending this reply')
    try:
        return _send_claimed(message, attempt_id, attempt)
    except TransientSendError as exc:
        if attempt.last:
            sending.finish(
                message,
                attempt_id,
                status='failed',
                reason=f'gave up after {attempt.receive_count} tries: {exc.reason}',
            )
            return 'failed'
        sending.release(message, attempt_id, reason=f'will retry: {exc.reason}')
        raise
    except PermanentSendError as exc:
        sending.finish(message, attempt_id, status='failed', reason=exc.reason)
        return 'failed'


def _send_claimed(message: Message, attempt_id: str, attempt: Attempt) -> ReplyOutcome:
    ticket = ticket_store.get_ticket(message.ticket_id)
    queue = queue_store.get_queue(ticket.queue_id)  # the ticket's current queue: moved tickets use the new one
    try:
        channel = channel_for_queue(queue)
    except NotFoundError as exc:  # a deleted channel is the admin's to fix, not a retry
        raise PermanentSendError(f'the queue {queue.name} replies through a channel that no longer exists') from exc
    wanted = [p.email for p in (*message.to, *message.cc)]
    kept, dropped = deliverable(wanted, recipient_filter(wanted))
    if not kept:
        reason = '; '.join(f'{a}: {r}' for a, r in dropped) or 'no recipients'
        sending.finish(message, attempt_id, status='suppressed', reason=f'nobody to send to ({reason})')
        return 'suppressed'
    mail = _outgoing(message, ticket, queue, channel, set(kept))
    try:
        raw = compose(mail)
    except Exception as exc:  # noqa: BLE001 - HeaderInjectionError and bad stored values: never retried
        raise PermanentSendError(f'the reply could not be composed ({exc})') from exc
    transport = _transport(channel)
    try:
        sending.hand_over(message, attempt_id)
    except ConflictError:
        return 'already_done'  # taken over meanwhile: that attempt owns the outcome
    sent = transport.send(raw, sender=mail.from_address, recipients=kept)
    dropped_note = '; '.join(f'{a}: {r}' for a, r in (*dropped, *sent.refused_recipients))
    sending.finish(
        message,
        attempt_id,
        status='sent',
        reason=f'not sent to {dropped_note}' if dropped_note else None,
        provider_id=sent.provider_id,
        provider_message_ids=sent.provider_message_ids,
    )
    return 'sent'


def _transport(channel: Channel | None) -> Transport:
    settings = outbound_settings()
    if channel is not None and channel.kind == 'smtp' and channel.smtp is not None:
        from inboxdesk.integrations.smtp import SmtpTransport

        return SmtpTransport(smtp_settings(channel.smtp), settings.smtp_host_allow_list)
    from inboxdesk.integrations.ses import SesTransport

    region = os.environ.get('AWS_REGION') or os.environ.get('AWS_DEFAULT_REGION', '')
    return SesTransport(settings.ses_configuration_set, region)


def _opener(key: str) -> Callable[[], BinaryIO]:
    """Opens the S3 object when the composer reaches the attachment: it streams, a chunk at a time."""

    return lambda: mail_store.open_object(key)


def _outgoing(message: Message, ticket: Ticket, queue: Queue, channel: Channel | None, kept: set[str]) -> OutgoingMail:
    own_address = next(iter(queue.inbound_addresses), None) or (message.sender.email if message.sender else '')
    from_address = channel.from_address if channel else (message.sender.email if message.sender else own_address)
    token = reply_tokens.make_token(ticket.id, secrets.reply_token_key())
    domain = own_address.rpartition('@')[2] or from_address.rpartition('@')[2]
    conversation = [m for m in ticket_store.list_messages(ticket.id) if m.direction != 'note' and m.id != message.id]
    earlier = [m for m in conversation if m.created_at <= message.created_at]
    earlier_ids = [m.rfc_id for m in earlier if m.rfc_id]
    customer_messages = [m for m in earlier if m.direction == 'inbound']
    previous = customer_messages[-1] if customer_messages else None
    appearance, _ = settings_store.get_appearance()
    return OutgoingMail(
        from_address=from_address,
        from_name=(channel.display_name if channel and channel.display_name else queue.name),
        to=tuple((p.name, p.email) for p in message.to if p.email in kept),
        cc=tuple((p.name, p.email) for p in message.cc if p.email in kept),
        reply_to=reply_tokens.plus_address(own_address, token) if own_address else None,
        subject=message.subject,
        message_id=message.rfc_id or f'{message.id}@{domain}',
        in_reply_to=previous.rfc_id if previous and previous.rfc_id else (earlier_ids[-1] if earlier_ids else None),
        references=(*earlier_ids[-MAX_REFERENCES:], reply_tokens.reference_id(token, domain)),
        text=message.text,
        html=message.html,
        quoted=QuotedMessage(
            sender_name=previous.sender.name if previous.sender else '',
            sender_address=previous.sender.email if previous.sender else '',
            date=datetime.fromisoformat(previous.created_at.replace('Z', '+00:00')),
            text=previous.text,
        )
        if previous and not message.flags.automatic  # an acknowledgement does not send the mail back
        else None,
        token_line=reply_tokens.reference_line(token),
        appearance=MailAppearance(
            **{k: v for k, v in (appearance or {}).items() if k in MailAppearance.__dataclass_fields__}
        ),
        attachments=tuple(
            OutgoingAttachment(a.filename, a.content_type, a.size, _opener(a.s3_key))
            for a in message.attachments
            if a.s3_key
        ),
        automatic=message.flags.automatic,
    )
