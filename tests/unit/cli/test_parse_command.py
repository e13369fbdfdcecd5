"""`inboxdesk parse`: the command-line view of the mail reader, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
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
