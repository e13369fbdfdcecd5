"""SES delivery events -> the delivery status of the message they are about.

bounce -> `bounced` (recipient and diagnostic as the reason); complaint -> `complained`; delivery ->
`delivered`; delay -> the status stays, the reason says why it is late; reject -> `failed`. A later event
never makes a status milder (a delivery after a bounce leaves `bounced`). A permanent bounce or a
complaint marks the address undeliverable, whether or not we know the message.

The message is found by SES's message id, which the sender recorded in the Message-ID pointer index as
`<id@REGION.amazonses.com>` (and `<id@email.amazonses.com>`, the us-east-1 form). Each event is applied
at most once (its id is derived from the event itself, so a redelivered notification is a duplicate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Final, Literal

from inboxdesk.dal import deliveries, suppressions
from inboxdesk.dal import tickets as ticket_store
from inboxdesk.ids import normalise_address
from inboxdesk.models import DeliveryStatus

EventKind = Literal['bounce', 'complaint', 'delivery', 'delay', 'reject']
FeedbackResult = Literal['applied', 'duplicate', 'unknown_message', 'ignored']
_KINDS: Final[dict[str, tuple[EventKind, str]]] = {
    'Bounce': ('bounce', 'bounce'),
    'Complaint': ('complaint', 'complaint'),
    'Delivery': ('delivery', 'delivery'),
    'DeliveryDelay': ('delay', 'deliveryDelay'),
    'Reject': ('reject', 'reject'),
}
# How bad each status is: an event moves a message only to a worse one.
_SEVERITY: Final = {'queued': 0, 'sending': 0, 'sent': 1, 'delivered': 2, 'failed': 3, 'bounced': 3, 'complained': 4}
_MAX_REASON: Final = 500


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    kind: EventKind
    event_id: str
    ses_message_id: str
    region: str
    recipients: tuple[tuple[str, str], ...]  # (address, diagnostic) as SES reported them
    permanent: bool  # a permanent bounce (complaints are always taken as permanent)
    detail: str  # bounce/delay type, complaint feedback type, reject reason


def parse_ses_event(data: Any) -> DeliveryEvent | None:
    """The event in SES's event-publishing JSON; None for events we do not act on (Send, Open, Click ...).
    ValueError when it is not an SES event at all."""
    if not isinstance(data, dict) or not isinstance(data.get('mail'), dict):
        raise ValueError('not an SES event: no mail object')
    event_type = data.get('eventType') or data.get('notificationType')
    if event_type not in _KINDS:
        return None
    kind, field = _KINDS[event_type]
    body = data.get(field) or {}
    mail = data['mail']
    ses_id = str(mail.get('messageId') or '')
    if not ses_id:
        raise ValueError('SES event without mail.messageId')
    arn_parts = str(mail.get('sourceArn') or '').split(':')
    region = arn_parts[3] if len(arn_parts) > 3 and arn_parts[3] else os.environ.get('AWS_REGION', 'us-east-1')
    listed = {
        'bounce': body.get('bouncedRecipients'),
        'complaint': body.get('complainedRecipients'),
        'delay': body.get('delayedRecipients'),
    }.get(kind)
    if listed is not None:
        recipients = tuple(
            (str(r.get('emailAddress', '')), str(r.get('diagnosticCode') or r.get('status') or ''))
            for r in listed
            if isinstance(r, dict)
        )
    else:
        recipients = tuple((str(a), '') for a in body.get('recipients') or mail.get('destination') or ())
    detail = str(
        body.get('bounceType')
        or body.get('complaintFeedbackType')
        or body.get('delayType')
        or body.get('reason')
        or body.get('smtpResponse')
        or ''
    )
    stamp = str(body.get('feedbackId') or body.get('timestamp') or mail.get('timestamp') or '')
    return DeliveryEvent(
        kind=kind,
        event_id=f'{ses_id}#{event_type}#{stamp}',
        ses_message_id=ses_id,
        region=region,
        recipients=recipients,
        permanent=kind == 'complaint' or (kind == 'bounce' and body.get('bounceType') == 'Permanent'),
        detail=detail,
    )


def provider_message_ids(ses_message_id: str, region: str) -> list[str]:
    """The Message-IDs SES gives what it sends, in both forms it uses."""
    return [f'{ses_message_id}@{region}.amazonses.com', f'{ses_message_id}@email.amazonses.com']


def _people(event: DeliveryEvent) -> str:
    return '; '.join(f'{a} ({d})' if d else a for a, d in event.recipients) or 'the recipient'


def _change(event: DeliveryEvent) -> tuple[DeliveryStatus | None, str]:
    """The status the event asks for (None: keep it) and the reason shown to agents."""
    if event.kind == 'bounce':
        return 'bounced', f'bounced ({event.detail or "unknown"}): {_people(event)}'[:_MAX_REASON]
    if event.kind == 'complaint':
        return 'complained', f'marked as spam by {_people(event)}'[:_MAX_REASON]
    if event.kind == 'reject':
        return 'failed', f'SES rejected the mail: {event.detail or "no reason given"}'[:_MAX_REASON]
    if event.kind == 'delay':
        return None, f'delivery delayed ({event.detail or "unknown"}): {_people(event)}'[:_MAX_REASON]
    return 'delivered', ''


def _mark_undeliverable(event: DeliveryEvent) -> None:
    if not event.permanent:
        return
    for address, diagnostic in event.recipients:
        if '@' in address:
            suppressions.mark_undeliverable(normalise_address(address), reason=event.kind, detail=diagnostic)


def apply_delivery_event(event: DeliveryEvent) -> FeedbackResult:
    """Record what the event says on its message (at most once) and mark undeliverable addresses."""

    _mark_undeliverable(event)
    pointer = deliveries.find_message(provider_message_ids(event.ses_message_id, event.region))
    if pointer is None:
        return 'unknown_message'
    wanted, reason = _change(event)
    for _attempt in range(3):
        current = ticket_store.get_message(pointer.ticket_id, pointer.message_id).delivery_status
        if wanted is None:  # a delay: the status stays, unless the mail already arrived or failed
            if _SEVERITY.get(current or '', 0) >= _SEVERITY['delivered']:
                return 'ignored'
            status = current or 'sent'
        elif _SEVERITY.get(wanted, 0) <= _SEVERITY.get(current or '', 0):
            return 'ignored'  # never milder: a delivery after a bounce leaves it bounced
        else:
            status = wanted
        outcome = deliveries.apply_feedback(
            pointer,
            event_id=event.event_id,
            expected_status=current,
            status=status,
            reason=reason or None,
        )
        if outcome != 'changed':
            return outcome
    return 'ignored'  # the status kept moving under us: the later writers' outcome stands
