"""Acknowledging a new ticket: when its queue's `auto_acknowledge` is on, the customer gets a short mail
with the ticket's number, stored as an automatic outbound message and sent by the reply sender through
the queue's channel, like a reply (outbox entry, outbound queue).

Never to automatic mail (auto-replies, out-of-office, bounces, lists, `Precedence: bulk|junk|list`: the
reader's classification), never to an address the recipient filter drops (our own addresses, the outgoing
email filter, no-reply and system addresses, undeliverable marks), never for an answer to an existing
ticket (only ingestion's `created` outcome calls this), and only as often as the rate limits on automatic
mail allow: a limited acknowledgement is stored as `suppressed` with the reason, and counted.

The template's placeholders are `{ticket_number}`, `{title}` and `{customer_name}`; nothing else in it is
interpreted (it is not a format string). Values are put in on one line each, so a customer's name cannot
add lines; the composer escapes the text for the HTML part.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, Literal

from inboxdesk.dal import outbox
from inboxdesk.logic import rate_limits, recipients, replies
from inboxdesk.mail.compose import reply_subject
from inboxdesk.models import MessageFlags, Participant
from inboxdesk.names import ACKNOWLEDGEMENT_LIMITED_METRIC
from inboxdesk.observability import count, logger

if TYPE_CHECKING:
    from inboxdesk.mail.model import ParsedEmail
    from inboxdesk.models import Queue

AcknowledgementOutcome = Literal['queued', 'suppressed', 'skipped']
ACKNOWLEDGEMENT_AUTHOR: Final = 'auto-acknowledgement'  # the author of the message: no agent wrote it
ACKNOWLEDGEMENT_FLAGS: Final = MessageFlags(auto_reply=True)
DEFAULT_TEMPLATE: Final = (
    'Hello {customer_name},\n\n'
    'thank you for your message. We have received it as ticket #{ticket_number} ("{title}") and will '
    'answer as soon as we can. To add anything, just reply to this mail.\n'
)
_PLACEHOLDER: Final = re.compile(r'\{(ticket_number|title|customer_name)\}')


def render(template: str | None, *, ticket_number: int, title: str, customer_name: str) -> str:
    """The acknowledgement's text: the queue's template (the default one when empty) with its placeholders
    replaced."""
    values = {
        'ticket_number': str(ticket_number),
        'title': ' '.join(title.split()),
        'customer_name': ' '.join(customer_name.split()) or 'there',
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template or DEFAULT_TEMPLATE)


def skip_reason(email: ParsedEmail, customer: Participant) -> str | None:
    """Why this mail gets no acknowledgement whatever the filter says, or None."""
    c = email.classification
    for flagged, reason in (
        (c.is_bounce, 'a delivery report'),
        (c.is_out_of_office, 'an out-of-office reply'),
        (c.is_auto_reply, 'automatic mail'),
        (c.is_list, 'list mail'),
    ):
        if flagged:
            return reason
    return None if customer.email else 'no sender address'


def acknowledge(
    *,
    ticket_id: str,
    ticket_number: int,
    title: str,
    customer: Participant,
    queue: Queue,
    email: ParsedEmail,
    outbound_queue_url: str,
) -> AcknowledgementOutcome:
    """Acknowledge the new ticket `ticket_id` when its queue says so (see the module docstring)."""
    if not queue.auto_ack_enabled:
        return 'skipped'
    reason = skip_reason(email, customer)
    if reason is None:
        _kept, dropped = recipients.deliverable([customer.email], recipients.recipient_filter([customer.email]))
        reason = dropped[0][1] if dropped else None
    if reason is not None:
        logger.info('acknowledgement skipped', ticket_id=ticket_id, reason=reason)
        return 'skipped'
    limited = rate_limits.allow_automatic(customer.email, ticket_id, 'acknowledgement')
    sender = replies.sender_for(queue.id)
    message = replies.add_outbound_message(
        ticket_id,
        author=ACKNOWLEDGEMENT_AUTHOR,
        sender=sender,
        to=[customer],
        subject=reply_subject(title, ticket_number),
        text=render(queue.auto_ack_template, ticket_number=ticket_number, title=title, customer_name=customer.name),
        rfc_id=replies.new_rfc_id(ticket_id, sender),
        flags=ACKNOWLEDGEMENT_FLAGS,
        suppressed_because=limited,
    )
    if limited:
        logger.info('acknowledgement suppressed', ticket_id=ticket_id, reason=limited)
        count(ACKNOWLEDGEMENT_LIMITED_METRIC)
        return 'suppressed'
    replies.enqueue(outbox.entry_of(message), outbound_queue_url)
    return 'queued'
