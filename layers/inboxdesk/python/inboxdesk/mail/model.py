"""The typed, immutable result of reading one raw mail (`inboxdesk.mail.read_email`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str

    def to_json(self) -> dict[str, str]:
        return {'name': self.name, 'address': self.address}


@dataclass(frozen=True, slots=True)
class Attachment:
    # Never empty. The sender's name (RFC 2231 / encoded words decoded, directories dropped), else
    # a made-up one: `attachment-N.<ext>` / `image-N.<ext>` (N = position among the attachments,
    # from 1), `<subject>.eml` or `message.eml` for message/rfc822.
    filename: str
    content_type: str
    size: int
    content_id: str | None
    inline: bool
    content: bytes = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The attachment without its bytes."""
        return {
            'filename': self.filename,
            'content_type': self.content_type,
            'size': self.size,
            'content_id': self.content_id,
            'inline': self.inline,
        }


@dataclass(frozen=True, slots=True)
class Classification:
    is_auto_reply: bool = False
    is_out_of_office: bool = False
    is_bounce: bool = False
    bounced_message_id: str | None = None
    failed_recipients: tuple[str, ...] = ()
    is_list: bool = False
    # For a bounce, the RFC 3464 action it reports: 'failed', 'delayed' or 'delivered' (None otherwise).
    bounce_action: str | None = None
    # For a failed delivery, why: each failed recipient's Status and Diagnostic-Code (`5.1.1 smtp; 550 5.1.1
    # <a@b>: User unknown`; `a@x: ... | b@y: ...` when they differ), else the SMTP reply line a non-standard
    # bounce quotes; one line, at most a few hundred characters; '' when the report gives no reason.
    bounce_reason: str = ''


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    message_id: str
    message_id_generated: bool  # true when the mail had none and `message_id` is derived from its bytes
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None  # timezone-aware (UTC when the mail gave no zone); None when missing or unreadable
    # None when the mail has no From header or it holds neither a name nor an address;
    # Address(name, '') when only a name could be read (e.g. `From: "" (Mail Delivery System)`).
    from_: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    classification: Classification
    # Decoded top-level headers in order, lower-cased names: routing and loop rules read
    # Delivered-To, X-Original-To and our own loop header from here.
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    # Why something could not be read: stdlib defect class names (`StartBoundaryNotFoundDefect`)
    # and the reader's own notes (`not-mime: ole2 compound file (outlook .msg)`, `mbox: ...`).
    defects: tuple[str, ...] = ()
    size: int = 0

    @property
    def is_auto_reply(self) -> bool:
        return self.classification.is_auto_reply

    @property
    def is_out_of_office(self) -> bool:
        return self.classification.is_out_of_office

    @property
    def is_bounce(self) -> bool:
        return self.classification.is_bounce

    @property
    def is_list(self) -> bool:
        return self.classification.is_list

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of `inboxdesk parse`: every field, attachments without their bytes."""
        c = self.classification
        return {
            'message_id': self.message_id,
            'message_id_generated': self.message_id_generated,
            'in_reply_to': self.in_reply_to,
            'references': list(self.references),
            'date': self.date.isoformat() if self.date else None,
            'from': self.from_.to_json() if self.from_ else None,
            'reply_to': [a.to_json() for a in self.reply_to],
            'to': [a.to_json() for a in self.to],
            'cc': [a.to_json() for a in self.cc],
            'subject': self.subject,
            'text': self.text,
            'html': self.html,
            'attachments': [a.to_json() for a in self.attachments],
            'is_auto_reply': c.is_auto_reply,
            'is_out_of_office': c.is_out_of_office,
            'is_bounce': c.is_bounce,
            'bounced_message_id': c.bounced_message_id,
            'failed_recipients': list(c.failed_recipients),
            'bounce_action': c.bounce_action,
            'bounce_reason': c.bounce_reason,
            'is_list': c.is_list,
            'defects': list(self.defects),
            'size': self.size,
        }
