"""Large mail: bodies are decoded from the raw bytes (not through the stdlib's copies) and must
come out exactly as a small mail's would. Memory and speed are measured in bench/, not here."""

from __future__ import annotations

import base64
import random

import pytest

from inboxdesk.mail import read_email
from inboxdesk.mail.blobs import BIG_MESSAGE


def _b64(data: bytes, newline: bytes) -> bytes:
    return base64.encodebytes(data).replace(b'\n', newline)


@pytest.fixture(scope='module')
def payloads() -> dict[str, bytes]:
    rng = random.Random(7)
    return {'a': rng.randbytes(400_000), 'b': rng.randbytes(300_000), 'inner': rng.randbytes(200_000)}


@pytest.mark.parametrize('newline', [b'\r\n', b'\n', b'\r'])
def test_large_multipart_with_nested_message(payloads: dict[str, bytes], newline: bytes) -> None:
    # Given a mail over the large-message threshold: a big base64 attachment, a big 8-bit text
    # part, and a forwarded message with its own big attachment
    text = ('Grüße aus Köln. ' * 4000).encode('utf-8')
    inner = (
        b'From: inner@example.com\nSubject: inner mail\nContent-Type: multipart/mixed; boundary="IN"\n\n'
        b'--IN\nContent-Type: text/plain\n\ninner text\n--IN\nContent-Type: application/octet-stream; name="in.bin"\n'
        b'Content-Transfer-Encoding: base64\n\n' + _b64(payloads['inner'], b'\n') + b'--IN--\n'
    )
    raw = (
        b'From: Big <big@example.com>\nSubject: big one\nMessage-ID: <big@example.com>\nMIME-Version: 1.0\n'
        b'Content-Type: multipart/mixed; boundary="OUT"\n\n'
        b'--OUT\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' + text + b'\n'
        b'--OUT\nContent-Type: application/pdf; name="a.pdf"\nContent-Transfer-Encoding: base64\n\n'
        + _b64(payloads['a'], b'\n')
        + b'--OUT\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
        + _b64(payloads['b'], b'\n')
        + b'--OUT\nContent-Type: message/rfc822\n\n'
        + inner
        + b'--OUT--\n'
    ).replace(b'\n', newline)
    assert len(raw) > BIG_MESSAGE

    # When it is read
    email = read_email(raw)

    # Then every body and attachment is complete and byte-exact
    assert email.subject == 'big one'
    assert email.text == text.decode('utf-8').strip()
    names = [a.filename for a in email.attachments]
    assert names == ['a.pdf', 'attachment-2.bin', 'inner mail.eml']
    assert email.attachments[0].content == payloads['a']
    assert email.attachments[1].content == payloads['b']
    forwarded = read_email(email.attachments[2].content)
    assert forwarded.subject == 'inner mail'
    assert forwarded.attachments[0].content == payloads['inner']


def test_large_single_part_message(payloads: dict[str, bytes]) -> None:
    # Given a mail whose whole body is one big base64 file
    raw = (
        b'From: a@example.com\r\nSubject: one part\r\nContent-Type: application/zip; name="all.zip"\r\n'
        b'Content-Transfer-Encoding: base64\r\n\r\n' + _b64(payloads['a'] * 2, b'\r\n')
    )
    # When it is read / Then the file comes out whole, and the text is empty
    email = read_email(raw)
    assert [(a.filename, a.content == payloads['a'] * 2) for a in email.attachments] == [('all.zip', True)]
    assert email.text == ''
