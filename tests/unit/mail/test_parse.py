"""Golden files: `tests/fixtures/emails/<case>.eml` read by `read_email` must match the fields
listed in `<case>.expected.json` (a subset of `ParsedEmail.to_json()`, plus a few checks).

Besides to_json() fields, an expected file may hold:
- `_rule`: what the case covers (not compared);
- `text_contains` / `text_excludes` / `html_contains` / `html_excludes`: substrings;
- `attachments`: one dict per attachment, in order, each compared on the keys it lists;
- `attachment_text_contains`: {filename: substring of the attachment's bytes, as UTF-8};
- `defects_include`: defects that must be among `defects`;
- `message_id_pattern`: a regular expression the message id must match."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from inboxdesk.mail import read_email
from tests.conftest import FIXTURES

EMAILS = FIXTURES / 'emails'
CASES = sorted(EMAILS.glob('*.expected.json'))


def _case_id(path: Path) -> str:
    return path.name.removesuffix('.expected.json')


@pytest.mark.parametrize('expected_path', CASES, ids=[_case_id(p) for p in CASES])
def test_golden(expected_path: Path) -> None:
    # Given a hand-written raw mail and what a reader must see in it
    raw = expected_path.with_name(_case_id(expected_path) + '.eml').read_bytes()
    expected: dict[str, Any] = json.loads(expected_path.read_text(encoding='utf-8'))

    # When it is read
    email = read_email(raw)
    got = email.to_json()

    # Then every listed field holds
    for key, want in expected.items():
        if key == '_rule':
            continue
        if key == 'attachments':
            assert len(got['attachments']) == len(want), [a['filename'] for a in got['attachments']]
            for have, wanted in zip(got['attachments'], want, strict=True):
                assert {k: have[k] for k in wanted} == wanted
        elif key == 'attachment_text_contains':
            contents = {a.filename: a.content for a in email.attachments}
            for filename, snippet in want.items():
                assert snippet.encode('utf-8') in contents[filename]
        elif key in ('text_contains', 'html_contains'):
            for snippet in want:
                assert snippet in got[key.split('_')[0]]
        elif key in ('text_excludes', 'html_excludes'):
            for snippet in want:
                assert snippet not in got[key.split('_')[0]]
        elif key == 'defects_include':
            assert set(want) <= set(got['defects'])
        elif key == 'message_id_pattern':
            assert re.match(want, got['message_id'])
        else:
            assert got[key] == want, key


def test_golden_cases_are_paired() -> None:
    # Given the fixture folder / When its files are listed / Then every .eml has its expected JSON
    emls = {p.stem for p in EMAILS.glob('*.eml')}
    assert emls == {_case_id(p) for p in CASES}
    assert len(emls) >= 30


def test_generated_message_id_is_stable_and_depends_on_the_bytes() -> None:
    # Given the same mail without a Message-ID twice, and once with one byte changed
    raw = (EMAILS / 'no_message_id_references.eml').read_bytes()
    # When each is read
    first, again, other = read_email(raw), read_email(raw), read_email(raw.replace(b'body', b'bodY'))
    # Then the stand-in is the same for the same bytes and different for other bytes
    assert first.message_id == again.message_id
    assert first.message_id != other.message_id


@pytest.mark.parametrize('newline', [b'\n', b'\r\n', b'\r'])
def test_line_ending_variants_read_alike(newline: bytes) -> None:
    # Given one multipart mail written with LF, CRLF or CR-only line endings
    raw = (EMAILS / 'related_inline_cid.eml').read_bytes().replace(b'\r\n', b'\n').replace(b'\n', newline)
    # When it is read
    email = read_email(raw)
    # Then body, attachments and inline flags are the same
    assert email.text == 'See the logo.'
    assert [(a.filename, a.size, a.inline) for a in email.attachments] == [
        ('image-1.png', 70, True),
        ('image-2.png', 70, True),
        ('image-3.png', 70, False),
    ]


@pytest.mark.parametrize(
    'raw',
    [
        b'',
        b' ',
        b'\x00',
        b'From: \xff\xfe\r\n\r\n',
        b'Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n',
        b'Content-Type: text/plain; charset="\xff"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!',
        b'Subject: =?x-unknown?B?////?= =?utf-8?Q?=ZZ?=\r\n\r\n',
        b'Content-Type: message/rfc822\r\n\r\nnot a message',
        b'Content-Disposition: attachment; filename*0*=bogus%ZZ; filename*1=x\r\n\r\nx',
        b'Message-ID: <<<>>>\r\nReferences: <<a@b> <\r\nDate: Mon, 99 Foo 99999 99:99:99\r\n\r\n',
        b'Content-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        b'eJ8+IgEAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNyb3NvZnQgTWFpbC5Ob3RlADEI\r\n',
        b'From: ' + b'a' * 100_000 + b'\r\n\r\n' + b'begin 644 x\r\n' + b'M' * 70 + b'\r\nend\r\n',
    ],
    ids=[
        'empty',
        'space',
        'nul',
        'ff-header',
        'empty-boundary',
        'bad-charset-bad-base64',
        'bad-encoded-words',
        'rfc822-not-a-message',
        'bad-rfc2231',
        'bad-ids-and-date',
        'truncated-tnef',
        'long-header-bad-uu',
    ],
)
def test_never_raises_on_hostile_input(raw: bytes) -> None:
    # Given malformed input / When it is read / Then a result comes back with a message id
    email = read_email(raw)
    assert email.message_id.startswith('<')
    assert not [d for d in email.defects if d.startswith('reader-error')]
