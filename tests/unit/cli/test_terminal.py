"""What the command line shows of mail on a terminal: text, never control sequences."""

from __future__ import annotations

import json
import tomllib
import unicodedata
from importlib.metadata import version

import pytest

from inboxdesk_cli.commands.tickets import format_table
from inboxdesk_cli.main import main
from inboxdesk_cli.terminal import safe_json
from tests.conftest import REPO

HOSTILE = '\x1b[31mRed\x1b[0m \x9b2J \u202eevil\x07\x7f'
ROW = {
    'number': 1,
    'title': HOSTILE,
    'status': 'new',
    'queue': 'Support',
    'customer_email': 'ada@example.org',
    'message_count': 1,
}


def _control(text: str) -> list[str]:
    return [c for c in text if c != '\n' and (unicodedata.category(c) == 'Cc' or c in '\u202a\u202b\u202c\u202d\u202e')]


def test_the_tickets_table_shows_escape_sequences_as_text():
    # Given a ticket whose title carries ESC and C1 sequences, a bidi override, BEL and DEL
    # When the table is formatted
    table = format_table([ROW])
    # Then no control character reaches the terminal, and the sequences are shown as escapes
    assert _control(table) == []
    assert '\\x1b[31mRed\\x1b[0m \\x9b2J \\u202eevil\\x07\\x7f' in table


def test_json_output_is_the_same_value_without_raw_controls():
    # Given the same row, When it is written as the --json output
    text = safe_json([ROW], indent=2)
    # Then it holds no raw control character, and reads back as the same title
    assert _control(text) == []
    assert json.loads(text)[0]['title'] == HOSTILE


def test_version_is_the_package_version(capsys):
    # When the version is asked for
    with pytest.raises(SystemExit) as done:
        main(['--version'])
    # Then it is the installed distribution's, which is pyproject's (as `make install` installed it)
    declared = tomllib.loads((REPO / 'pyproject.toml').read_text())['project']['version']
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f'inboxdesk {version("inboxdesk")}' == f'inboxdesk {declared}'
