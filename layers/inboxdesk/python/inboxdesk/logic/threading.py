"""Threading, in order: our Message-IDs in In-Reply-To/References; the signed reply token (in a recipient's
plus part, then in References, then in the quoted body - the body only from the ticket's customer or a
CC); the subject tag `[#N]` (only from a participant, and not when DMARC failed); otherwise a new ticket.

The token finders here only recognise the shape (`reply_token_candidates`); the caller verifies each
(`reply_tokens.verify_token`) and passes what verified to `decide`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from inboxdesk import reply_tokens
from inboxdesk.ids import new_id, normalise_rfc_id
from inboxdesk.models import ThreadRule, Ticket

if TYPE_CHECKING:  # the `inboxdesk.mail` package loads the whole reader, which the API never needs
    from inboxdesk.mail.model import ParsedEmail

_TAG = re.compile(r'\[#(\d{1,12})\]')
_ULID = re.compile(r'^[0-9A-HJKMNP-TV-Z]{26}$')
MAX_REFERENCES = 40
MAX_HINTS = 3
MAX_TOKENS = 5  # a mail naming more tokens than this is not worth more Secrets-keyed MACs

# Where a reply token was found: a recipient's plus part and References thread on their own; a token
# quoted in the body counts only when the sender takes part in the ticket (anyone can quote a mail).
TokenPlace = Literal['address', 'references', 'body']


def make_message_id(ticket_id: str, domain: str) -> str:
    """A Message-ID for mail we send about a ticket: `<ticket-id.unique@domain>`. Replies naming it let
    ingestion read the ticket in the same BatchGetItem as the pointer (the pointer still decides)."""
    return f'<{ticket_id}.{new_id()}@{domain}>'


def ticket_hints(rfc_ids: list[str]) -> list[str]:
    """Ticket ids that Message-IDs made by `make_message_id` carry (a hint, never trusted on its own)."""
    hints: dict[str, None] = {}
    for rfc_id in rfc_ids:
        first = rfc_id.split('@', 1)[0].split('.', 1)[0]
        if _ULID.match(first):
            hints.setdefault(first, None)
    return list(hints)[:MAX_HINTS]


@dataclass(frozen=True, slots=True)
class ThreadDecision:
    ticket_id: str | None  # None: a new ticket
    rule: ThreadRule


def subject_tag(subject: str) -> int | None:
    """The ticket number tagged in a subject (`Re: [#42] Printer`), or None."""
    match = _TAG.search(subject or '')
    return int(match.group(1)) if match else None


def referenced_ids(email: ParsedEmail) -> list[str]:
    """Message-IDs this mail answers, most specific first: In-Reply-To, then References newest first."""
    ordered: dict[str, None] = {}
    own = normalise_rfc_id(email.message_id)
    for candidate in [email.in_reply_to or '', *reversed(email.references)]:
        normalised = normalise_rfc_id(candidate)
        if normalised and normalised != own:
            ordered.setdefault(normalised, None)
    return list(ordered)[:MAX_REFERENCES]


def reply_token_candidates(email: ParsedEmail, envelope_recipients: Sequence[str]) -> list[tuple[TokenPlace, str]]:
    """Token-shaped strings in the order they count, without repeats: the plus parts of the envelope
    recipients, Delivered-To, To and Cc; then References (and In-Reply-To); then the quoted body."""
    found: dict[str, TokenPlace] = {}
    addresses = [
        *envelope_recipients,
        *email.header_values('delivered-to'),
        *(a.address for a in (*email.to, *email.cc)),
    ]
    for address in addresses:
        if token := reply_tokens.token_of_address(address):
            found.setdefault(token, 'address')
    if token := reply_tokens.token_of_references([*email.references, email.in_reply_to or '']):
        found.setdefault(token, 'references')
    if token := reply_tokens.token_of_text(email.text) or reply_tokens.token_of_text(email.html):
        found.setdefault(token, 'body')
    return [(place, token) for token, place in found.items()][:MAX_TOKENS]


def decide(
    email: ParsedEmail,
    *,
    pointers: Mapping[str, str],
    tagged_ticket: Callable[[], Ticket | None],
    dmarc_failed: bool,
    tokens: Sequence[tuple[TokenPlace, str]] = (),
    token_ticket: Callable[[str], Ticket | None] = lambda _ticket_id: None,
) -> ThreadDecision:
    """`pointers`: rfc id -> ticket id for those we know; `tagged_ticket`: reads the ticket
    the subject tag names (None: no tag, or no such ticket), called only when the tag could decide;
    `tokens`: (where found, ticket id) of the reply tokens that verified, in order; `token_ticket`: reads
    the ticket a quoted token names (None: no such ticket), to check the sender takes part in it."""
    for rfc_id in referenced_ids(email):
        ticket_id = pointers.get(rfc_id)
        if ticket_id:
            return ThreadDecision(ticket_id, 'headers')
    sender = email.from_.address if email.from_ else ''
    for place, ticket_id in tokens:
        if place != 'body':
            return ThreadDecision(ticket_id, 'reply-token')
        quoted = token_ticket(ticket_id) if sender else None
        if quoted is not None and quoted.is_participant(sender):
            return ThreadDecision(ticket_id, 'reply-token')
    if sender and not dmarc_failed:
        tagged = tagged_ticket()
        if tagged is not None and tagged.is_participant(sender):
            return ThreadDecision(tagged.id, 'subject-tag')
    return ThreadDecision(None, 'new')
