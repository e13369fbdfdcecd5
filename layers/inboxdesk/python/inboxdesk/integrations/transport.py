"""The interface every outbound transport implements.

A transport only delivers: the composer builds the bytes, the caller chooses sender and recipients
(the envelope), the transport reports what the provider called the mail. Failures are `SendError`s:
`PermanentSendError` (do not retry; its `reason` is shown to agents) or `TransientSendError` (retry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from inboxdesk.errors import PermanentSendError


@dataclass(frozen=True)
class SentMail:
    """What a provider said when it accepted a mail.

    `provider_id`: the provider's own id of the send (SES's MessageId), None when it gives none.
    `provider_message_ids`: Message-IDs (in `<...>` form) the mail carries on its way out besides our
    own, so that an answer naming only one of them still threads: SES replaces the Message-ID with
    `<id@REGION.amazonses.com>` (`<id@email.amazonses.com>` in us-east-1).
    `refused_recipients`: (address, the server's reason) for recipients refused while the others
    were accepted; a mail that no recipient accepted raises instead.
    """

    provider_id: str | None
    provider_message_ids: tuple[str, ...] = ()
    refused_recipients: tuple[tuple[str, str], ...] = ()


class Transport(Protocol):
    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SentMail:
        """Deliver `raw` (CRLF MIME) from envelope `sender` to every address of `recipients`."""
        ...


def check_envelope(sender: str, recipients: Sequence[str]) -> None:
    """Refuse envelope addresses no mail server can carry (none at all, line breaks, NUL, spaces,
    angle brackets, non-ASCII): a `PermanentSendError` naming the address."""
    if not recipients:
        raise PermanentSendError('the mail has no recipients', stage='send')
    for address in (sender, *recipients):
        if not address.isascii() or not address.isprintable() or any(c in ' <>' for c in address) or '@' not in address:
            raise PermanentSendError(f'{address!r} cannot be used as an envelope address', stage='send')
