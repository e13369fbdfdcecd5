"""Outbound channels: the way a queue's replies leave (Amazon SES, or a customer's own SMTP server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ChannelKind = Literal['ses', 'smtp']
CHANNEL_KINDS: Final = ('ses', 'smtp')
LATER_CHANNEL_KINDS: Final = ('gmail', 'imap', 'o365')  # connected mailboxes: made when the mailbox is connected
ChannelStatus = Literal['active', 'needs_attention']
CHANNEL_STATUSES: Final = ('active', 'needs_attention')
TlsMode = Literal['implicit', 'starttls']  # never plaintext: the password is only sent inside TLS
TLS_MODES: Final = ('implicit', 'starttls')
SMTP_PORTS: Final = (25, 465, 587, 2525)


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    """Where an smtp channel connects; the password is in Secrets Manager under `secret_name`, never here."""

    host: str
    port: int
    tls_mode: TlsMode
    username: str
    secret_name: str


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    kind: ChannelKind
    from_address: str
    display_name: str
    status: ChannelStatus
    status_reason: str | None
    smtp: SmtpEndpoint | None  # set exactly when kind is smtp
    created_at: str
    updated_at: str
