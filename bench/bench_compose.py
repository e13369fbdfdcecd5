"""Composer speed and memory.

1. Speed, side by side in one run: `compose` of an agent's reply in a 30-message conversation
   (References of its 30 ids plus the reply token's and our own, the customer's previous message
   quoted, a signature, a reference line) with a 1 MB attachment, against a bare `EmailMessage`
   build of the same content (the same headers, text, an HTML body, the attachment;
   `as_bytes(policy=SMTP)`). Target: at most 2x.
2. Peak memory (tracemalloc) composing a reply with a 25 MB attachment, as a multiple of the
   attachment size (its bytes are allocated before tracing starts): `compose` to bytes, and
   `compose_to` a spooled temporary file. Target: at most 3x.

Run: `.venv/bin/python -m bench bench_compose`"""

from __future__ import annotations

import html
import io
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from bench.bench_mail_read import peak_memory
from inboxdesk.mail import read_email
from inboxdesk.mail.compose import MailAppearance, OutgoingAttachment, OutgoingMail, QuotedMessage, compose, compose_to

ROUNDS = 15
CONVERSATION = 30
TOKEN = '01jf3k6m7c9q2x8d4t5v6w7y8zhx2k9m4p7q1rs'
WHEN = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)


def conversation_reply(attachment: bytes) -> OutgoingMail:
    rng = random.Random(3)
    words = ['printer', 'drum', 'toner', 'invoice', 'thanks', 'please', 'again', 'tomorrow', 'Grüße', 'naïve']
    previous = '\n'.join(' '.join(rng.choice(words) for _ in range(12)) for _ in range(40))
    references = tuple(f'{rng.getrandbits(64):016x}.{n}@mail.customer.test' for n in range(CONVERSATION))
    return OutgoingMail(
        from_address='support@inboxdesk.test',
        from_name='Acme Support',
        to=(('Ana Pérez', 'ana@customer.test'),),
        cc=(('Bob', 'bob@customer.test'),),
        reply_to=f'support+{TOKEN}@inboxdesk.test',
        subject='Re: Printer broken again [#1042]',
        message_id='01JF3K6M7C9Q2X8D4T5V6W7Y8Z@inboxdesk.test',
        in_reply_to=references[-1],
        references=(*references, f'ref-{TOKEN}@inboxdesk.test'),
        text='Hello Ana,\n\nwe replaced the drum; the new invoice is attached.\n\nBest regards',
        quoted=QuotedMessage('Ana Pérez', 'ana@customer.test', WHEN, previous),
        token_line=f'[ref:{TOKEN}]',
        appearance=MailAppearance(signature_text='The Acme team\nhttps://acme.test'),
        attachments=(
            OutgoingAttachment('invoice.pdf', 'application/pdf', len(attachment), lambda: io.BytesIO(attachment)),
        ),
        date=WHEN,
    )


def bare_build(mail: OutgoingMail, attachment: bytes) -> bytes:
    """The baseline: the same content through EmailMessage, as one would write it by hand."""
    assert mail.quoted is not None
    message = EmailMessage(policy=policy.SMTP)
    message['From'] = f'{mail.from_name} <{mail.from_address}>'
    message['To'] = ', '.join(f'{name} <{address}>' for name, address in mail.to)
    message['Cc'] = ', '.join(f'{name} <{address}>' for name, address in mail.cc)
    message['Reply-To'] = mail.reply_to
    message['Subject'] = mail.subject
    message['Date'] = format_datetime(WHEN)
    message['Message-ID'] = f'<{mail.message_id}>'
    message['In-Reply-To'] = f'<{mail.in_reply_to}>'
    message['References'] = ' '.join(f'<{ref}>' for ref in mail.references)
    quote = '\n'.join(f'> {line}' for line in mail.quoted.text.splitlines())
    text = f'{mail.text}\n\n-- \n{mail.appearance.signature_text}\n\nAna wrote:\n{quote}\n\n{mail.token_line}\n'
    message.set_content(text)
    message.add_alternative(f'<div>{html.escape(text)}</div>', subtype='html')
    message.add_attachment(attachment, maintype='application', subtype='pdf', filename='invoice.pdf')
    return message.as_bytes()


def _time(fn: Callable[[], bytes]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def speed() -> float:
    attachment = random.Random(1).randbytes(1_000_000)
    mail = conversation_reply(attachment)
    raw = compose(mail)  # warm up (nh3), and prove the input is what we think it is
    parsed = read_email(raw)
    if len(parsed.references) != CONVERSATION + 2 or parsed.attachments[0].content != attachment:
        raise SystemExit('composed mail does not hold the conversation and the attachment: nothing was measured')
    bare_build(mail, attachment)
    ours, bare = [], []
    for _ in range(ROUNDS):  # interleaved, so both see the same machine load
        bare.append(_time(lambda: bare_build(mail, attachment)))
        ours.append(_time(lambda: compose(mail)))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f'reply: {CONVERSATION}-message conversation, 1 MB attachment, {len(raw) / 1e6:.2f} MB; median of {ROUNDS}')
    print(f'  bare EmailMessage build + as_bytes: {b * 1000:7.1f} ms')
    print(f'  compose:                            {o * 1000:7.1f} ms')
    print(f'  ratio compose / bare: {o / b:.2f}x  (target <= 2x)')
    return o / b


def _to_spooled_file(mail: OutgoingMail) -> int:
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as out:
        compose_to(mail, out)  # type: ignore[arg-type]
        return out.tell()


def memory() -> float:
    size = 25_000_000
    attachment = random.Random(2).randbytes(size)
    mail = conversation_reply(attachment)
    composed = len(compose(mail))
    if composed < size * 4 // 3:
        raise SystemExit('composed mail is smaller than its attachment: nothing was measured')
    bare = peak_memory(lambda _: bare_build(mail, attachment), b'')
    to_bytes = peak_memory(lambda _: compose(mail), b'')
    to_file = peak_memory(lambda _: _to_spooled_file(mail), b'')
    print(f'reply with a {size / 1e6:.0f} MB attachment ({composed / 1e6:.1f} MB composed)')
    print(f'  bare EmailMessage build peak:     {bare / 1e6:7.1f} MB = {bare / size:.2f}x')
    print(f'  compose (bytes) peak:             {to_bytes / 1e6:7.1f} MB = {to_bytes / size:.2f}x  (target <= 3x)')
    print(f'  compose_to (spooled file) peak:   {to_file / 1e6:7.1f} MB = {to_file / size:.2f}x')
    return to_bytes / size


def main() -> None:
    speed()
    memory()


if __name__ == '__main__':
    main()
