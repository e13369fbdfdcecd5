"""The one composer of outgoing mail: `compose(OutgoingMail) -> bytes` (CRLF MIME), pure: the only
thing it reads is the attachment streams it is handed.

Every transport delivers what this module builds. Values bound for headers are checked here again
(CR, LF or NUL -> `HeaderInjectionError` naming the field), whatever the API already refused.
Message ids are given bare (`abc@example.com`); angle brackets around them are tolerated. The mail's
own Message-ID also ends its References: SES replaces the Message-ID, and an answer then still names
ours (its client copies our References).
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from typing import BinaryIO, Final, cast

from inboxdesk import resources
from inboxdesk.errors import HeaderInjectionError, InvalidAddressError
from inboxdesk.mail.html import sanitize as _sanitise

_POLICY: Final = policy.SMTP  # CRLF, 78-column folding, RFC 2047/2231 for what is not ASCII
_CHUNK: Final = 57 * 16384  # attachment bytes read at a time: base64 makes one 76-column line of 57
_BREAKS: Final = ('\r', '\n', '\x00')
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")  # an unquoted (dot-atom) local part
_DOMAIN = re.compile(r'[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*')
_COLOUR = re.compile(r'#[0-9a-fA-F]{6}')
_CONTENT_TYPE = re.compile(r'[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+')
_REPLY_PREFIX = re.compile(r'^(?:(?:re|aw|sv|antw)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+', re.IGNORECASE)
_DOCUMENT: Final = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n<body>{}</body></html>\n'
)


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
    """One outgoing mail. `reply_to` is the plus-address with the reply token and `references` the
    conversation's ids plus the token's reference id (`inboxdesk.reply_tokens`), `token_line` its
    reference line: the composer writes them as given."""

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


def reply_subject(title: str, number: int) -> str:
    """`Re: <title> [#N]`: one `Re:` however many the title already has, one ticket tag."""
    tag = f'[#{number}]'
    words = ' '.join(title.split())
    words = ' '.join(_REPLY_PREFIX.sub('', words).replace(tag, ' ').split())
    return f'Re: {words} {tag}' if words else f'Re: {tag}'


def compose(mail: OutgoingMail) -> bytes:
    """The mail as CRLF MIME bytes (see `compose_to`)."""
    out = io.BytesIO()
    compose_to(mail, out)
    return out.getvalue()


def compose_to(mail: OutgoingMail, out: BinaryIO) -> None:
    """Write the mail as CRLF MIME to `out`: multipart/alternative (text and HTML), inside
    multipart/mixed when there are attachments. Attachments are read and base64-encoded a chunk at
    a time, so a spooled file as `out` keeps a large mail out of memory."""
    _refuse_breaks(mail)
    head, body = _top_headers(mail), _alternative(mail)
    out.write(head)
    if not mail.attachments:
        out.write(body)
        return
    boundary = f'=_inboxdesk_{secrets.token_hex(12)}'  # '=_' never occurs in base64 or quoted-printable
    out.write(f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode('ascii'))
    delimiter = f'--{boundary}\r\n'.encode('ascii')
    out.write(delimiter + body)
    for attachment in mail.attachments:
        out.write(delimiter + _attachment_headers(attachment))
        _write_base64(attachment, out)
    out.write(f'--{boundary}--\r\n'.encode('ascii'))


def _refuse_breaks(mail: OutgoingMail) -> None:
    values: list[tuple[str, str | None]] = [
        ('from_address', mail.from_address),
        ('from_name', mail.from_name),
        ('reply_to', mail.reply_to),
        ('subject', mail.subject),
        ('message_id', mail.message_id),
        ('in_reply_to', mail.in_reply_to),
    ]
    values += [('to', part) for pair in mail.to for part in pair]
    values += [('cc', part) for pair in mail.cc for part in pair]
    values += [('references', ref) for ref in mail.references]
    for attachment in mail.attachments:
        values += [('attachments.filename', attachment.filename), ('attachments.content_type', attachment.content_type)]
    for name, value in values:
        if value is not None and any(c in value for c in _BREAKS):
            raise HeaderInjectionError(name)


def _address(field: str, name: str, address: str) -> Address:
    local, _, domain = address.strip().rpartition('@')
    try:
        domain = domain.encode('idna').decode('ascii')
    except UnicodeError as error:
        raise InvalidAddressError(field, address) from error
    if not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        raise InvalidAddressError(field, address)
    return Address(display_name=' '.join(name.split()), username=local, domain=domain)


def _msg_ids(ids: Iterable[str | None]) -> list[str]:
    """`<id>` for each id that can be written as one (ASCII, no spaces); others are left out, as
    a mail client would."""
    result = []
    for value in ids:
        bare = (value or '').strip().removeprefix('<').removesuffix('>')
        if bare and bare.isascii() and not any(c.isspace() or c in '<>' for c in bare):
            result.append(f'<{bare}>')
    return list(dict.fromkeys(result))


def _top_headers(mail: OutgoingMail) -> bytes:
    head = EmailMessage(policy=_POLICY)
    head['From'] = _address('from_address', mail.from_name, mail.from_address)
    if mail.to:
        head['To'] = [_address('to', name, address) for name, address in mail.to]
    if mail.cc:
        head['Cc'] = [_address('cc', name, address) for name, address in mail.cc]
    if mail.reply_to:
        head['Reply-To'] = _address('reply_to', '', mail.reply_to)
    head['Subject'] = mail.subject
    head['Date'] = format_datetime(mail.date or datetime.now(UTC))
    lines = [_POLICY.fold_binary(name, value) for name, value in head.items()]
    own = _msg_ids([mail.message_id])
    if not own:
        raise ValueError(f'not a Message-ID: {mail.message_id!r}')
    # Message ids are written one per line, so folding never has to split or encode one.
    for name, ids in (
        ('Message-ID', own),
        ('In-Reply-To', _msg_ids([mail.in_reply_to])),
        ('References', _msg_ids([*mail.references, mail.message_id])),
    ):
        if ids:
            lines.append(f'{name}: '.encode('ascii') + b'\r\n '.join(i.encode('ascii') for i in ids) + b'\r\n')
    if mail.automatic:
        lines.append(b'Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\nPrecedence: bulk\r\n')
    lines.append(f'{resources.LOOP_HEADER}: {own[0]}\r\nMIME-Version: 1.0\r\n'.encode('ascii'))
    return b''.join(lines)


def _alternative(mail: OutgoingMail) -> bytes:
    part = MIMEPart(policy=_POLICY)  # a body part: no MIME-Version of its own
    part.set_content(_text_body(mail), subtype='plain', charset='utf-8', cte='quoted-printable')
    part.add_alternative(_html_body(mail), subtype='html', charset='utf-8', cte='quoted-printable')
    out = io.BytesIO()
    BytesGenerator(out, policy=_POLICY).flatten(cast(EmailMessage, part))
    return out.getvalue()


def _attribution(quoted: QuotedMessage) -> str:
    sender = f'{quoted.sender_name} <{quoted.sender_address}>' if quoted.sender_name else quoted.sender_address
    if quoted.date is None:
        return f'{sender} wrote:'
    when = quoted.date
    return f'On {when:%a}, {when.day} {when:%b %Y} at {when:%H:%M}, {sender} wrote:'


def _text_body(mail: OutgoingMail) -> str:
    blocks = [mail.text.strip('\r\n')]
    signature = mail.appearance.signature_text.strip('\r\n')
    if signature:
        blocks.append(f'-- \n{signature}')
    if mail.quoted:
        lines = mail.quoted.text.strip('\r\n').splitlines()
        blocks.append('\n'.join([_attribution(mail.quoted)] + [f'> {line}' if line else '>' for line in lines]))
    if mail.token_line:
        blocks.append(mail.token_line)
    return '\n\n'.join(blocks) + '\n'


def _text_html(text: str) -> str:
    return html_lib.escape(text.strip('\r\n')).replace('\r\n', '\n').replace('\n', '<br>\n')


def _colour(value: str, default: str) -> str:
    return value if _COLOUR.fullmatch(value) else default


def _html_body(mail: OutgoingMail) -> str:
    look = mail.appearance
    defaults = MailAppearance()
    text_colour = _colour(look.accent_colour, defaults.accent_colour)
    rule_colour = _colour(look.primary_colour, defaults.primary_colour)
    blocks = []
    if look.logo_url and look.logo_url.startswith('https://'):
        blocks.append(f'<p><img src="{html_lib.escape(look.logo_url)}" alt="" height="40"></p>')
    blocks.append(f'<div>{mail.html or _text_html(mail.text)}</div>')
    signature = look.signature_html or _text_html(look.signature_text)
    if signature:
        blocks.append(
            f'<div style="margin-top:16px;padding-top:8px;border-top:2px solid {rule_colour}">{signature}</div>'
        )
    if mail.quoted:
        blocks.append(
            f'<p style="margin-top:16px">{html_lib.escape(_attribution(mail.quoted))}</p>'
            '<blockquote style="margin:0 0 0 0.8ex;border-left:1px solid #cccccc;padding-left:1ex">'
            f'{_text_html(mail.quoted.text)}</blockquote>'
        )
    if mail.token_line:  # for clients that quote the HTML only; invisible to the reader
        blocks.append(
            '<div style="display:none;max-height:0;overflow:hidden;font-size:1px;color:#ffffff">'
            f'{html_lib.escape(mail.token_line)}</div>'
        )
    style = f'color:{text_colour};font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5'
    return _DOCUMENT.format(_sanitise(f'<div style="{style}">{"".join(blocks)}</div>'))


def _attachment_headers(attachment: OutgoingAttachment) -> bytes:
    part = EmailMessage(policy=_POLICY)
    content_type = attachment.content_type.strip().lower()
    part['Content-Type'] = content_type if _CONTENT_TYPE.fullmatch(content_type) else 'application/octet-stream'
    filename = ' '.join(attachment.filename.split()) or 'attachment'
    part.set_param('name', filename)  # older clients (Outlook) read the name from here
    part['Content-Disposition'] = 'attachment'
    part.set_param('filename', filename, header='Content-Disposition')
    part['Content-Transfer-Encoding'] = 'base64'
    return b''.join(_POLICY.fold_binary(name, value) for name, value in part.items()) + b'\r\n'


def _base64_lines(data: bytes | memoryview) -> bytes:
    """Base64 in 76-column CRLF lines (`base64.encodebytes` wraps in a Python loop: far slower)."""
    encoded = base64.b64encode(data)
    return b'\r\n'.join([encoded[i : i + 76] for i in range(0, len(encoded), 76)]) + b'\r\n'


def _write_base64(attachment: OutgoingAttachment, out: BinaryIO) -> None:
    pending = b''
    wrote = False
    with attachment.open() as stream:
        while chunk := stream.read(_CHUNK):
            data = memoryview(pending + chunk if pending else chunk)
            whole = len(data) - len(data) % 57
            if whole:
                out.write(_base64_lines(data[:whole]))
                wrote = True
            pending = bytes(data[whole:])
    if pending or not wrote:
        out.write(_base64_lines(pending))
