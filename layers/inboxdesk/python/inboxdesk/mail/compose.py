"""The one composer of outgoing mail: `compose(OutgoingMail) -> bytes` (CRLF MIME), pure, no I/O.

Every transport delivers what this module builds. Values bound for headers are checked here again
(CR, LF or NUL -> `HeaderInjectionError` naming the field), whatever the API already refused.
Message ids are given bare (`abc@example.com`); angle brackets around them are tolerated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO


@dataclass(frozen=True)
class QuotedMessage:
    """The previous customer message, quoted below the reply as mail clients do."""

    sender_name: str
    sender_address: str
    date: datetime | None
    text: str


@dataclass(frozen=True)
class MailAppearance:
    """How replies look: the signature below the reply, the colours and logo of the HTML part."""

    signature_text: str = ''
    signature_html: str = ''  # sanitised again when composed
    primary_colour: str = '#4f46e5'  # '#RRGGBB': links and the rule above the signature
    accent_colour: str = '#111827'  # '#RRGGBB': body text
    logo_url: str | None = None  # https only


@dataclass(frozen=True)
class OutgoingAttachment:
    """An attachment read when the mail is composed: `open()` returns a fresh binary stream (an S3
    body, a file) that the composer reads in chunks and closes."""

    filename: str
    content_type: str
    size: int
    open: Callable[[], BinaryIO]


@dataclass(frozen=True)
class OutgoingMail:
    from_address: str
    from_name: str
    to: tuple[tuple[str, str], ...]  # (display name, address)
    cc: tuple[tuple[str, str], ...]
    reply_to: str | None
    subject: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    html: str = ''  # the reply body as sanitised HTML; '' builds it from `text`
    quoted: QuotedMessage | None = None
    token_line: str | None = None  # at the foot of the text part, hidden in the HTML part
    appearance: MailAppearance = field(default_factory=MailAppearance)
    attachments: tuple[OutgoingAttachment, ...] = ()
    automatic: bool = False  # auto-acknowledgements and other mail no agent wrote
    date: datetime | None = None  # the Date header; None: the time of composing
