"""Outbound channels: the way a queue's replies leave (Amazon SES, or a customer's own SMTP server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from inboxdesk.models.vocabulary import ChannelKind, ChannelStatus, TlsMode

# Admins create these kinds; the others (gmail, imap, o365) are made when their mailbox is connected.
CREATABLE_CHANNEL_KINDS: Final[tuple[ChannelKind, ...]] = ('ses', 'smtp')


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
