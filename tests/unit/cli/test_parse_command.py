"""`inboxdesk parse`: the command-line view of the mail reader, run as a user runs it."""

from __future__ import annotations

import base64
import json
import mailbox
import subprocess
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.support.cli import INBOXDESK, cli_env

EMAILS = FIXTURES / 'emails'


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INBOXDESK, 'parse', *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=cli_env()
    )


def test_jsonl_prints_one_object_per_file_in_order(tmp_path: Path) -> None:
    # Given a few mails, one with spaces and '#' in its name
    odd = tmp_path / 'mail #2 with spaces.eml'
    odd.write_bytes((EMAILS / 'filenames.eml').read_bytes())
    files = [str(EMAILS / 'raw_utf8_headers.eml'), str(odd), str(EMAILS / 'not_mime_empty.eml')]
    # When they are parsed with --jsonl
    result = _run('--jsonl', *files, cwd=tmp_path)
    # Then every file gets one line, in the order given, with `file` as given and the reader's fields
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line['file'] for line in lines] == files
    assert lines[0]['subject'] == 'Grüße aus Köln – 東京'
    assert lines[0]['from'] == {'name': 'Jürgen Müller', 'address': 'jm@example.de'}
    assert 'Move To Eight ZWEP6227F.pdf' in [a['filename'] for a in lines[1]['attachments']]
    assert 'content' not in lines[1]['attachments'][0]
    assert lines[2]['defects'] == ['not-mime: empty input']


def test_single_file_prints_one_indented_object(tmp_path: Path) -> None:
    # Given one mail / When it is parsed without --jsonl
    result = _run(str(EMAILS / 'signed_multipart.eml'), cwd=tmp_path)
    # Then one indented JSON object is printed
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{\n  ')
    parsed = json.loads(result.stdout)
    assert parsed['text'] == 'Signed text.'
    assert parsed['file'] == str(EMAILS / 'signed_multipart.eml')


def test_several_files_without_jsonl_print_a_list(tmp_path: Path) -> None:
    # Given two mails / When they are parsed without --jsonl / Then a JSON list in order comes out
    result = _run(str(EMAILS / 'charset_gb2312.eml'), str(EMAILS / 'charset_utf7.eml'), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [item['subject'] for item in json.loads(result.stdout)] == ['你好世界', 'Café']


@pytest.mark.parametrize('bad', ['missing.eml', '.'])
def test_unreadable_path_reports_and_fails_but_prints_the_rest(tmp_path: Path, bad: str) -> None:
    # Given a readable mail and a missing file or a directory
    good = str(EMAILS / 'charset_utf7.eml')
    # When both are parsed
    result = _run('--jsonl', bad, good, cwd=tmp_path)
    # Then the readable one is printed, the other is named on stderr, and the exit status is 1
    assert result.returncode == 1
    assert bad in result.stderr
    assert [json.loads(line)['file'] for line in result.stdout.splitlines()] == [good]


def test_binary_and_degenerate_files_exit_zero(tmp_path: Path) -> None:
    # Given files that are not mail at all / When they are parsed / Then they are still readable files
    files = [str(EMAILS / name) for name in ('not_mime_ole2.eml', 'not_mime_binary.eml', 'not_mime_empty.eml')]
    result = _run('--jsonl', *files, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3


HOSTILE_SUBJECT = '\x1b]0;pwned\x07 \x9b31mRed \u202eevil'


def _hostile_mail() -> bytes:
    encoded = '=?utf-8?b?' + base64.b64encode(HOSTILE_SUBJECT.encode()).decode() + '?='
    return f'From: a@example.org\r\nTo: s@example.org\r\nSubject: {encoded}\r\n\r\nbody \x1b[2J here\r\n'.encode()


def test_parse_never_prints_terminal_escapes_from_mail(tmp_path: Path) -> None:
    # Given a mail whose subject sets the window title, recolours (C1 CSI) and reverses text, and whose
    # body clears the screen
    mail = tmp_path / 'hostile.eml'
    mail.write_bytes(_hostile_mail())
    # When it is parsed, as one object and as JSON lines
    for args in ((str(mail),), ('--jsonl', str(mail))):
        result = _run(*args, cwd=tmp_path)
        # Then the output holds no control character at all, and still decodes to what the mail says
        assert result.returncode == 0, result.stderr
        assert not [c for c in result.stdout if c != '\n' and unicodedata.category(c) == 'Cc']
        assert '\u202e' not in result.stdout
        assert json.loads(result.stdout.splitlines()[0] if args[0] == '--jsonl' else result.stdout)['subject'] == (
            HOSTILE_SUBJECT
        )


def test_parse_reads_every_message_of_an_mbox(tmp_path: Path) -> None:
    # Given an mbox file holding three mails
    path = tmp_path / 'inbox.mbox'
    box = mailbox.mbox(path)
    for number in (1, 2, 3):
        box.add(f'From: c{number}@example.org\nTo: s@example.org\nSubject: Mail {number}\n\nBody {number}\n'.encode())
    box.close()
    # When the mbox is parsed, with and without --jsonl
    listed = _run(str(path), cwd=tmp_path)
    lines = _run('--jsonl', str(path), cwd=tmp_path)
    # Then each of the three mails is there, in order, numbered within the mbox
    assert listed.returncode == lines.returncode == 0, listed.stderr + lines.stderr
    shown = json.loads(listed.stdout)
    assert [(m['file'], m['mbox_message'], m['subject']) for m in shown] == [
        (str(path), 1, 'Mail 1'),
        (str(path), 2, 'Mail 2'),
        (str(path), 3, 'Mail 3'),
    ]
    assert [json.loads(line)['subject'] for line in lines.stdout.splitlines()] == ['Mail 1', 'Mail 2', 'Mail 3']
