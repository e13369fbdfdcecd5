"""Turn the handlers' structured log records (inbound, reply sender, SES feedback) into one human line per
outcome.

The handler logs `logger.info('mail ingested', outcome=..., ticket_number=N, queue=..., ticket_id=...)`
through Powertools; Powertools passes those keyword arguments as attributes of the `logging.LogRecord`,
so a plain `logging.Handler` on the same logger sees them without parsing JSON.
"""

from __future__ import annotations

import logging
from typing import Any

console = logging.getLogger('inboxdesk_dev')


def describe_outcome(fields: dict[str, Any]) -> str | None:
    """`{'outcome': 'created', 'ticket_number': 3, 'queue': 'Support'}` -> `ticket #3 created in queue Support`."""
    outcome = fields.get('outcome')
    if not outcome:
        return None
    if fields.get('msg') == 'reply':  # the reply sender (replies and acknowledgements)
        return f'outgoing mail {outcome}' + (
            f' (try {fields["receive_count"]})' if fields.get('receive_count', 1) > 1 else ''
        )
    if fields.get('msg') == 'ses event':  # the SES feedback handler
        return f'SES {fields.get("kind", "")} event {outcome}'
    number = fields.get('ticket_number')
    ticket = f'ticket #{number}' if number is not None else 'a ticket'
    queue = fields.get('queue')
    lines = {
        'created': f'{ticket} created' + (f' in queue {queue}' if queue else ''),
        'appended': f'appended to {ticket}',
        'duplicate': 'duplicate ignored' + (f' (already in {ticket})' if number is not None else ''),
        'loop_dropped': 'loop dropped (our own mail coming back: '
        + {'own-message-id': 'one of our Message-IDs', 'loop-header': 'our loop header'}.get(
            str(fields.get('reason')), 'our own address'
        )
        + '; kept in S3)',
        'bounce_linked': 'bounce linked to the outgoing message it answers' + (f' on {ticket}' if number else ''),
        'skipped': 'skipped' + (f' ({fields["reason"]})' if fields.get('reason') else ''),
    }
    return lines.get(str(outcome), f'{outcome}' + (f' ({ticket})' if number is not None else ''))


class OutcomeLogHandler(logging.Handler):
    """Writes `describe_outcome` of every record that carries an `outcome` to the dev console."""

    def __init__(self, target: logging.Logger = console) -> None:
        super().__init__(level=logging.INFO)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = describe_outcome(vars(record))
            if line:
                self.target.info(line)
        except Exception:
            self.handleError(record)
