"""Every real-world mail of the shared corpus reads without an exception, and every `expected_*`
value of its MANIFEST.tsv holds (bounce and auto-reply columns are the classifier's tests)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

from inboxdesk.mail import ParsedEmail, read_email
from tests.conftest import CORPUS

NOT_MAIL = {'README.md', 'MANIFEST.tsv', 'LICENSE', 'NOTICE.txt', 'NOTICE'}
SCORED = (
    'expected_subject',
    'expected_subject_prefix',
    'expected_from_email',
    'expected_from_name',
    'expected_message_id',
    'expected_attachment_count',
    'expected_attachment_filenames',
    'expected_body_contains',
    'expected_body_empty',
    'expected_defects',
)
# Names the reader makes up for parts that carry none.
GENERATED_NAME = re.compile(r'^(attachment|image)-\d+\.[a-z0-9]+$')


def _corpus_files() -> list[Any]:
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob('*') if p.is_file() and p.name not in NOT_MAIL)
    return [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in files]


def _manifest_rows() -> list[Any]:
    manifest = CORPUS / 'MANIFEST.tsv'
    if not manifest.is_file():
        return []
    with manifest.open(encoding='utf-8', newline='') as fh:
        rows = list(csv.DictReader(fh, delimiter='\t'))
    return [pytest.param(row, id=row['path']) for row in rows if any(row.get(col) for col in SCORED)]


def _attachment_count(email: ParsedEmail, source: str) -> int:
    """Attachments counted the way the source's own tests count them."""
    if source == 'SpamScope/mail-parser':
        # mail-parser lists a part only when it has a file name or a Content-ID.
        return sum(1 for a in email.attachments if a.content_id or not GENERATED_NAME.match(a.filename))
    # proton-bridge and simple-java-mail count every non-body part (inline images included).
    return len(email.attachments)


def _visible_html(html: str) -> str:
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html))


@pytest.mark.parametrize('path', _corpus_files())
def test_every_corpus_file_reads(path: Path) -> None:
    # Given a real-world raw mail (or a degenerate file: empty, binary, .msg, mbox)
    raw = path.read_bytes()
    # When it is read
    email = read_email(raw)
    # Then the reader returns a complete result, never an internal error, and the JSON shape holds
    assert not [d for d in email.defects if d.startswith(('reader-error', 'classify-error'))]
    assert email.message_id.startswith('<') and email.message_id.endswith('>')
    assert email.size == len(raw)
    assert '\ufffd' not in email.subject
    as_json = email.to_json()
    assert as_json['attachments'] == [a.to_json() for a in email.attachments]


@pytest.mark.parametrize('row', _manifest_rows())
def test_manifest_expectations(row: dict[str, str]) -> None:
    # Given a corpus mail whose source states what a reader must see in it
    email = read_email((CORPUS / row['path']).read_bytes())
    # When its expectations are compared with what was read
    # Then each stated value holds
    if row['expected_subject']:
        assert email.subject == row['expected_subject']
    if row['expected_subject_prefix']:
        assert email.subject.startswith(row['expected_subject_prefix'])
    if row['expected_from_email']:
        assert email.from_ is not None
        assert email.from_.address == row['expected_from_email']
    if row['expected_from_name'] or 'from_name of ""' in row['expected_source_note']:
        assert email.from_ is not None
        assert email.from_.name == row['expected_from_name']
    if row['expected_message_id']:
        assert email.message_id == row['expected_message_id']
        assert not email.message_id_generated
    if row['expected_attachment_count']:
        assert _attachment_count(email, row['source_repo']) == int(row['expected_attachment_count'])
    if row['expected_attachment_filenames']:
        names = {a.filename for a in email.attachments}
        for wanted in row['expected_attachment_filenames'].split('|'):
            assert wanted in names
    if row['expected_body_contains']:
        wanted = row['expected_body_contains']
        assert wanted in email.text or wanted in _visible_html(email.html)
    if row['expected_body_empty'] == '1':
        assert email.text.strip() == ''
    if row['expected_defects']:
        stdlib_defects = {d for d in email.defects if d.endswith('Defect')}
        expected = set() if row['expected_defects'] == 'none' else set(row['expected_defects'].split('|'))
        assert stdlib_defects == expected
