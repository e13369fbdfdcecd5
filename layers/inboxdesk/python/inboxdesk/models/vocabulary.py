"""Every vocabulary of the domain, defined once: the dataclasses, the data layer's checks and the API
models all use these (the tuples are the same lists, for membership checks at run time)."""

from __future__ import annotations

from typing import Final, Literal, get_args

TicketStatus = Literal['new', 'open', 'pending', 'solved', 'closed', 'spam']
Priority = Literal['low', 'normal', 'high', 'urgent']
Direction = Literal['inbound', 'outbound', 'note']
# An outbound message's lifecycle: stored and queued, picked up, handed to the provider, then what the
# provider reports; `suppressed` when the outgoing filter or a suppression list kept it from leaving.
DeliveryStatus = Literal['queued', 'sending', 'sent', 'delivered', 'failed', 'bounced', 'complained', 'suppressed']
# Which rule put an inbound message into its ticket.
ThreadRule = Literal['headers', 'reply-token', 'subject-tag', 'new', 'bounce']
ChannelKind = Literal['ses', 'smtp', 'gmail', 'imap', 'o365']  # how replies leave
ChannelStatus = Literal['active', 'needs_attention']
TlsMode = Literal['implicit', 'starttls']  # never plaintext: a password is only ever sent inside TLS
MailboxKind = Literal['gmail', 'imap', 'o365']  # connected mailboxes mail is fetched from
# Why an address is in the outgoing filter: an admin put it there, a queue receives on it, a channel or a
# connected mailbox sends from it.
FilterSource = Literal['manual', 'inbound-address', 'channel', 'mailbox']

TICKET_STATUSES: Final[tuple[TicketStatus, ...]] = get_args(TicketStatus)
PRIORITIES: Final[tuple[Priority, ...]] = get_args(Priority)
DIRECTIONS: Final[tuple[Direction, ...]] = get_args(Direction)
DELIVERY_STATUSES: Final[tuple[DeliveryStatus, ...]] = get_args(DeliveryStatus)
THREAD_RULES: Final[tuple[ThreadRule, ...]] = get_args(ThreadRule)
CHANNEL_KINDS: Final[tuple[ChannelKind, ...]] = get_args(ChannelKind)
CHANNEL_STATUSES: Final[tuple[ChannelStatus, ...]] = get_args(ChannelStatus)
TLS_MODES: Final[tuple[TlsMode, ...]] = get_args(TlsMode)
MAILBOX_KINDS: Final[tuple[MailboxKind, ...]] = get_args(MailboxKind)
