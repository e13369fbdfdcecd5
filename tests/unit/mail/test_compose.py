"""The composer: what a customer's mail client shows of a reply, and what it refuses to write."""

from __future__ import annotations

import email
import io
import random
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from inboxdesk import resources
from inboxdesk.errors import HeaderInjectionError, InvalidAddressError
from inboxdesk.mail import read_email
from inboxdesk.mail.compose import (
    MailAppearance,
    OutgoingAttachment,
    OutgoingMail,
    QuotedMessage,
    compose,
    compose_to,
    reply_subject,
)

TOKEN = '01jf3k6m7c9q2x8d4t5v6w7y8zhx2k9m4p7q1rs'
WHEN = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)


def attachment(filename: str, content_type: str, data: bytes) -> OutgoingAttachment:
    return OutgoingAttachment(filename, content_type, len(data), lambda: io.BytesIO(data))


def reply(**changes: object) -> OutgoingMail:
    mail = OutgoingMail(
        from_address='support@inboxdesk.test',
        from_name='Acme Support',
        to=(('Ana Pérez', 'ana@customer.test'),),
        cc=(('Bob', 'bob@customer.test'), ('', 'carol@partner.test')),
        reply_to=f'support+{TOKEN}@inboxdesk.test',
        subject='Re: Printer broken [#12]',
        message_id='01JF3K6M7C9Q2X8D4T5V6W7Y8Z.reply@inboxdesk.test',
        in_reply_to='<c2@customer.test>',
        references=('c1@customer.test', 'c2@customer.test', f'ref-{TOKEN}@inboxdesk.test'),
        text='Hello Ana,\nwe replaced the drum.',
        quoted=QuotedMessage(
            'Ana Pérez', 'ana@customer.test', datetime(2026, 12, 1, 9, 5, tzinfo=UTC), 'It jams.\n\nAna'
        ),
        token_line=f'[ref:{TOKEN}]',
        appearance=MailAppearance(signature_text='The Acme team'),
        date=WHEN,
    )
    return replace(mail, **changes)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_reply_headers_as_a_mail_client_reads_them() -> None:
    # Given an agent's reply in a conversation of two customer messages
    raw = compose(reply())

    # When the customer's client reads it
    message = parse(raw)

    # Then every threading and addressing header is there, written as mail clients expect
    assert message['From'] == 'Acme Support <support@inboxdesk.test>'
    assert message['To'] == 'Ana Pérez <ana@customer.test>'
    assert message['Cc'] == 'Bob <bob@customer.test>, carol@partner.test'
    assert message['Reply-To'] == f'support+{TOKEN}@inboxdesk.test'
    assert message['Subject'] == 'Re: Printer broken [#12]'
    assert message['Date'] == 'Tue, 01 Dec 2026 21:30:00 +0000'
    assert message['Message-ID'] == '<01JF3K6M7C9Q2X8D4T5V6W7Y8Z.reply@inboxdesk.test>'
    assert message['In-Reply-To'] == '<c2@customer.test>'
    # (our own id last: SES replaces the Message-ID, and answers copy References)
    assert message['References'].split() == [
        '<c1@customer.test>',
        '<c2@customer.test>',
        f'<ref-{TOKEN}@inboxdesk.test>',
        '<01JF3K6M7C9Q2X8D4T5V6W7Y8Z.reply@inboxdesk.test>',
    ]
    assert message[resources.LOOP_HEADER]
    assert message['MIME-Version'] == '1.0'
    assert message.get_content_type() == 'multipart/alternative'
    # and an agent's reply carries none of the automatic-mail headers
    assert message['Auto-Submitted'] is None
    assert message['X-Auto-Response-Suppress'] is None
    assert message['Precedence'] is None


def test_the_bytes_are_seven_bit_crlf_mime_with_short_lines() -> None:
    # Given a reply full of non-ASCII text, with an attachment
    raw = compose(
        reply(
            text='Grüße aus Köln — 日本語も大丈夫です。' * 20,
            attachments=(attachment('a.bin', 'application/octet-stream', b'\x00\xff' * 5000),),
        )
    )

    # Then it travels through any SMTP server: ASCII only, CRLF line ends, no line over 78 columns
    assert raw.isascii()
    assert b'\n' not in raw.replace(b'\r\n', b'')
    assert b'\r' not in raw.replace(b'\r\n', b'')
    assert max(len(line) for line in raw.split(b'\r\n')) <= 78


def test_automatic_mail_says_so() -> None:
    # Given an auto-acknowledgement
    message = parse(compose(reply(automatic=True)))

    # Then responders and Exchange know not to answer it, and it carries our loop header too
    assert message['Auto-Submitted'] == 'auto-replied'
    assert message['X-Auto-Response-Suppress'] == 'All'
    assert message['Precedence'] == 'bulk'
    assert message[resources.LOOP_HEADER]


class _HiddenText(HTMLParser):
    """Collects text inside and outside elements styled `display:none`."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.hidden: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ('br', 'img', 'meta'):
            return
        style = (dict(attrs).get('style') or '').replace(' ', '')
        self.stack.append(bool(self.stack and self.stack[-1]) or 'display:none' in style)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ('br', 'img', 'meta') and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.hidden if self.stack and self.stack[-1] else self.visible).append(data)


def test_the_reference_line_ends_the_text_and_hides_in_the_html() -> None:
    # Given a reply with its reference line
    parsed = read_email(compose(reply()))

    # Then the text part ends with it, so a quoting answer carries it back
    assert parsed.text.rstrip().splitlines()[-1] == f'[ref:{TOKEN}]'
    # and in the HTML part it is in the markup but not shown
    seen = _HiddenText()
    seen.feed(parsed.html)
    assert f'[ref:{TOKEN}]' in ''.join(seen.hidden)
    assert TOKEN not in ''.join(seen.visible)
    assert 'Hello Ana,' in ''.join(seen.visible)


def test_the_previous_customer_message_is_quoted_below_the_reply() -> None:
    # Given a reply quoting the customer's message
    parsed = read_email(compose(reply()))

    # Then the text shows reply, signature, attribution and the quote, in that order
    assert parsed.text.replace('\r\n', '\n').startswith(
        'Hello Ana,\nwe replaced the drum.\n\n-- \nThe Acme team\n\n'
        'On Tue, 1 Dec 2026 at 09:05, Ana Pérez <ana@customer.test> wrote:\n> It jams.\n>\n> Ana\n'
    )
    # and the HTML quotes it in a blockquote, escaped
    assert 'Ana Pérez &lt;ana@customer.test&gt; wrote:' in parsed.html
    assert '<blockquote' in parsed.html
    assert parsed.html.index('It jams.') > parsed.html.index('<blockquote')


def test_html_is_built_from_the_text_escaped_when_no_html_is_given() -> None:
    # Given a plain-text reply that looks like markup
    parsed = read_email(compose(reply(text='Use <b>bold</b> & <script>alert(1)</script>', quoted=None)))

    # Then the HTML shows the characters, never the markup
    assert '&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;' in parsed.html
    assert '<script' not in parsed.html
    assert '<b>' not in parsed.html


def test_html_and_signature_html_are_sanitised_once_more() -> None:
    # Given HTML with script, event handlers and a javascript: link, in the body and the signature
    look = MailAppearance(
        signature_html='<p onclick="steal()">Acme<img src="x" onerror="steal()"></p><script>x()</script>'
    )
    raw = compose(
        reply(html='<p><b>Fixed</b> <a href="javascript:steal()">here</a></p><script>steal()</script>', appearance=look)
    )
    html = read_email(raw).html

    # Then what the client renders keeps the formatting and none of the active content
    assert '<b>Fixed</b>' in html
    assert 'Acme' in html
    for active in ('<script', 'onclick', 'onerror', 'javascript:', 'steal()'):
        assert active not in html


def test_appearance_colours_and_logo() -> None:
    # Given appearance settings with colours and a logo
    look = MailAppearance(
        signature_text='Acme', primary_colour='#ff0000', accent_colour='#00aa00', logo_url='https://acme.test/logo.png'
    )
    html = read_email(compose(reply(appearance=look))).html

    # Then the HTML uses them
    assert 'color:#00aa00' in html
    assert '#ff0000' in html
    assert '<img src="https://acme.test/logo.png"' in html


def test_appearance_values_that_are_no_colour_or_no_https_url_are_not_used() -> None:
    # Given colour and logo values that try to smuggle CSS or script
    look = MailAppearance(
        primary_colour='red;background:url(https://evil.test/x)', accent_colour='#12345', logo_url='javascript:alert(1)'
    )
    html = read_email(compose(reply(appearance=look))).html

    # Then the defaults are used and no logo is shown
    assert 'evil.test' not in html
    assert 'color:#111827' in html
    assert 'javascript' not in html
    assert '<img' not in html


def test_non_ascii_names_subject_and_filenames_survive() -> None:
    # Given a reply with non-ASCII display names, subject and attachment names, to an IDN domain
    mail = reply(
        from_name='Zoë’s Support, «Köln»',
        to=(('José Müller-Łukasz', 'jose@bücher.test'),),
        subject=reply_subject('Drucker kaputt – bitte helfen 😕', 1042),
        attachments=(
            attachment('Rechnung März.pdf', 'application/pdf', b'%PDF-1.4'),
            attachment('日本語の資料.txt', 'text/plain', b'hi'),
        ),
    )
    parsed = read_email(compose(mail))

    # Then the client shows them as written (the domain in its IDNA form)
    assert parsed.from_ is not None
    assert parsed.from_.name == 'Zoë’s Support, «Köln»'
    assert [(a.name, a.address) for a in parsed.to] == [('José Müller-Łukasz', 'jose@xn--bcher-kva.test')]
    assert parsed.subject == 'Re: Drucker kaputt – bitte helfen 😕 [#1042]'
    assert [a.filename for a in parsed.attachments] == ['Rechnung März.pdf', '日本語の資料.txt']


def test_attachments_round_trip() -> None:
    # Given attachments of awkward sizes (not multiples of the base64 line, one larger than a read chunk, one empty)
    rng = random.Random(7)
    blobs = {
        'photo.jpg': ('image/jpeg', rng.randbytes(1_234_567)),
        'notes.txt': ('text/plain', 'naïve\r\ntext\n'.encode()),
        'empty.csv': ('text/csv', b''),
    }
    mail = reply(attachments=tuple(attachment(name, kind, data) for name, (kind, data) in blobs.items()))

    # When the customer's client reads the mail
    parsed = read_email(compose(mail))

    # Then it shows the reply and every attachment with its name, type and exact bytes
    assert parsed.text.startswith('Hello Ana,')
    got = {a.filename: (a.content_type, a.content) for a in parsed.attachments}
    assert got == blobs


def test_attachment_streams_are_read_once_and_closed() -> None:
    # Given an attachment whose stream is an S3 body or a file
    opened: list[io.BytesIO] = []

    def open_stream() -> io.BytesIO:
        opened.append(io.BytesIO(b'x' * 100_000))
        return opened[-1]

    # When the mail is composed into a file
    out = io.BytesIO()
    compose_to(reply(attachments=(OutgoingAttachment('x.txt', 'text/plain', 100_000, open_stream),)), out)

    # Then the stream was opened once and closed (connections go back to the pool)
    assert len(opened) == 1
    assert opened[0].closed
    assert read_email(out.getvalue()).attachments[0].content == b'x' * 100_000


def test_an_unusable_content_type_is_sent_as_octet_stream() -> None:
    parsed = read_email(compose(reply(attachments=(attachment('a.bin', 'not a type; x=y', b'abc'),))))
    assert parsed.attachments[0].content_type == 'application/octet-stream'


HEADER_FIELDS = {
    'from_name': lambda bad: {'from_name': bad},
    'from_address': lambda bad: {'from_address': bad},
    'subject': lambda bad: {'subject': bad},
    'reply_to': lambda bad: {'reply_to': bad},
    'message_id': lambda bad: {'message_id': bad},
    'in_reply_to': lambda bad: {'in_reply_to': bad},
    'references': lambda bad: {'references': ('c1@customer.test', bad)},
    'to': lambda bad: {'to': (('Ana', bad),)},
    'to name': lambda bad: {'to': ((bad, 'ana@customer.test'),)},
    'cc': lambda bad: {'cc': (('', bad),)},
    'cc name': lambda bad: {'cc': ((bad, 'bob@customer.test'),)},
    'attachments.filename': lambda bad: {'attachments': (attachment(bad, 'text/plain', b'x'),)},
    'attachments.content_type': lambda bad: {'attachments': (attachment('a.txt', bad, b'x'),)},
}


@pytest.mark.parametrize(
    'breaker', ['\r', '\n', '\x00', '\r\nBcc: victim@evil.test'], ids=['CR', 'LF', 'NUL', 'CRLF-Bcc']
)
@pytest.mark.parametrize('case', sorted(HEADER_FIELDS))
def test_line_breaks_and_nul_in_any_header_value_are_refused(case: str, breaker: str) -> None:
    # Given a value bound for a header with a line break or NUL in it
    mail = reply(**HEADER_FIELDS[case](f'x{breaker}y@customer.test'))

    # Then the composer refuses the mail, naming the field, and writes nothing
    out = io.BytesIO()
    with pytest.raises(HeaderInjectionError) as refused:
        compose_to(mail, out)
    assert refused.value.field == case.removesuffix(' name')
    assert out.getvalue() == b''


@pytest.mark.parametrize(
    'address', ['no-at-sign', '@customer.test', 'ana@', 'ana smith@customer.test', 'jösé@customer.test']
)
def test_unusable_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddressError) as refused:
        compose(reply(to=(('Ana', address),)))
    assert refused.value.field == 'to'


def test_ids_that_cannot_be_written_are_left_out_of_references() -> None:
    # Given a conversation where one stored id holds a space and one non-ASCII characters
    message = parse(
        compose(
            reply(references=('c1@customer.test', 'bad id@customer.test', 'ïd@customer.test', '<c2@customer.test>'))
        )
    )

    # Then References keeps the usable ones, once each, in order
    assert message['References'].split() == [
        '<c1@customer.test>',
        '<c2@customer.test>',
        '<01JF3K6M7C9Q2X8D4T5V6W7Y8Z.reply@inboxdesk.test>',
    ]


@pytest.mark.parametrize(
    ('title', 'number', 'subject'),
    [
        ('Printer broken', 12, 'Re: Printer broken [#12]'),
        ('Re: Printer broken', 12, 'Re: Printer broken [#12]'),
        ('RE: re:Re[2]: AW: Printer broken', 12, 'Re: Printer broken [#12]'),
        ('Printer broken [#12]', 12, 'Re: Printer broken [#12]'),
        ('Re: Printer [#12] broken', 12, 'Re: Printer broken [#12]'),
        ('Printer broken [#7]', 12, 'Re: Printer broken [#7] [#12]'),
        ('Printer\r\n  broken', 1, 'Re: Printer broken [#1]'),
        ('Return policy', 3, 'Re: Return policy [#3]'),
        ('', 5, 'Re: [#5]'),
    ],
)
def test_reply_subject(title: str, number: int, subject: str) -> None:
    assert reply_subject(title, number) == subject
