"""The classifier against the shared corpus of real-world mail (`../shared/corpus`): every
`expected_is_bounce` / `expected_is_autoreply` of MANIFEST.tsv holds, every file classifies, and
the standard delivery reports yield their failed recipients and returned Message-ID."""

from __future__ import annotations

import csv
import email
import re
from email import policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest

from inboxdesk.mail import classify as classify_module
from inboxdesk.mail.classify import classify
from inboxdesk.mail.model import Classification
from tests.conftest import CORPUS
from tests.unit.mail.test_classify import reader_arguments

NOT_MAIL = {'README.md', 'MANIFEST.tsv', 'LICENSE', 'NOTICE.txt', 'NOTICE'}

# Rows where the source's label disagrees with what the mail plainly is. Kept visible (strict
# xfail: the test fails if the classifier ever agrees with the label) instead of fitting a rule.
DISPUTED = {
    # sisimai filed it under maildir/not/ when fixing a crash (rb-sisimai #368/#369): its parser has
    # no module for this format. The mail itself is a postmaster's "email bounce notification"
    # (Return-Path <>, "Your message was rejected ... Mailbox full", the rejected mail pasted below).
    'set-of-emails/maildir/not/rb-issue-368-bug.eml': 'a mailbox-full bounce that sisimai cannot parse',
}


def _rows() -> list[dict[str, str]]:
    manifest = CORPUS / 'MANIFEST.tsv'
    if not manifest.is_file():
        return []
    with manifest.open(encoding='utf-8', newline='') as fh:
        return list(csv.DictReader(fh, delimiter='\t'))


def _labelled_rows() -> list[Any]:
    params = []
    for row in _rows():
        if not (row['expected_is_bounce'] or row['expected_is_autoreply']):
            continue
        marks = [pytest.mark.xfail(strict=True, reason=DISPUTED[row['path']])] if row['path'] in DISPUTED else []
        params.append(pytest.param(row, id=row['path'], marks=marks))
    return params


def _corpus_files() -> list[Any]:
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob('*') if p.is_file() and p.name not in NOT_MAIL)
    return [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in files]


def _parse(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _classify(path: Path) -> Classification:
    msg = _parse(path)
    from_address, subject = reader_arguments(msg)
    return classify(msg, from_address=from_address, subject=subject)


def _leaves(msg: Message) -> list[Message]:
    """Parts of the top-level tree (not inside an attached message)."""
    found: list[Message] = []
    stack = [msg]
    while stack:
        part = stack.pop()
        found.append(part)
        payload = part.get_payload()
        if part.get_content_maintype() == 'multipart' and isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
    return found


@pytest.mark.parametrize('row', _labelled_rows())
def test_manifest_label_holds(row: dict[str, str], corpus_dir: Path) -> None:
    # Given a corpus mail whose source states whether it is a bounce or an auto-reply
    path = corpus_dir / row['path']

    # When it is classified
    result = _classify(path)

    # Then the stated labels hold
    if row['expected_is_bounce']:
        assert result.is_bounce == (row['expected_is_bounce'] == '1')
    if row['expected_is_autoreply']:
        assert result.is_auto_reply == (row['expected_is_autoreply'] == '1')


def test_labelled_rows_are_there(corpus_dir: Path) -> None:
    # Given the manifest / Then it still labels both kinds (a silently empty parametrization proves nothing)
    rows = _rows()
    assert sum(1 for r in rows if r['expected_is_bounce'] == '1') >= 100
    assert sum(1 for r in rows if r['expected_is_autoreply'] == '1') >= 7


@pytest.mark.parametrize('path', _corpus_files())
def test_every_corpus_file_classifies_without_the_safety_net(path: Path, corpus_dir: Path) -> None:
    # Given any corpus file, however broken (0 bytes, mbox, Outlook .msg, CR-only newlines)
    msg = _parse(path)
    from_address, subject = reader_arguments(msg)

    # When the rules run without classify()'s last-resort guard, nothing raises ...
    unguarded = classify_module._classify(msg, from_address=from_address, subject=subject)

    # ... and the public entry point gives the same answer
    assert classify(msg, from_address=from_address, subject=subject) == unguarded


def _standard_reports(corpus_dir: Path) -> list[tuple[Path, EmailMessage]]:
    found = []
    for row in _rows():
        if row['expected_is_bounce'] != '1':
            continue
        path = corpus_dir / row['path']
        msg = _parse(path)
        if any(p.get_content_type() == 'message/delivery-status' for p in _leaves(msg)):
            found.append((path, msg))
    return found


def test_standard_delivery_reports_yield_their_failed_recipients(corpus_dir: Path) -> None:
    # Given every labelled bounce that carries an RFC 3464 message/delivery-status part
    reports = _standard_reports(corpus_dir)
    assert len(reports) >= 50

    failing, with_recipients = 0, 0
    for path, msg in reports:
        dsn_text = '\n'.join(
            p.as_string(policy=policy.compat32)
            for p in _leaves(msg)
            if p.get_content_type() == 'message/delivery-status'
        ).lower()
        # When each is classified
        from_address, subject = reader_arguments(msg)
        result = classify(msg, from_address=from_address, subject=subject)
        assert result.is_bounce, path
        if not re.search(r'^action:\s*failed', dsn_text, re.MULTILINE):
            continue
        failing += 1
        # Then every report of a failure names its failed recipients, each one taken from the report
        if result.failed_recipients:
            with_recipients += 1
        assert result.bounce_action == 'failed', path
        assert all(address in dsn_text for address in result.failed_recipients), path

    assert failing >= 50
    assert with_recipients == failing


def test_standard_delivery_reports_give_the_reason_of_each_failure(corpus_dir: Path) -> None:
    # Given every labelled bounce whose RFC 3464 report has a failed recipient with a Diagnostic-Code
    checked = 0
    for path, msg in _standard_reports(corpus_dir):
        blocks = [
            p.as_string(policy=policy.compat32)
            for p in _leaves(msg)
            if p.get_content_type() == 'message/delivery-status'
        ]
        dsn_text = ' '.join(' '.join(blocks).split()).lower()
        if not re.search(r'action: failed.*?diagnostic-code:|diagnostic-code:.*?action: failed', dsn_text):
            continue
        checked += 1
        # When it is classified
        from_address, subject = reader_arguments(msg)
        reason = classify(msg, from_address=from_address, subject=subject).bounce_reason

        # Then the reason is one bounded line, and what it quotes is in the report
        assert reason, path
        assert '\n' not in reason and len(reason) <= 600, path
        quoted = re.sub(r'^(?:\S+@\S+: )?(?:[245]\.\d{1,3}\.\d{1,3} )?', '', reason).rstrip('…').lower()
        assert quoted.split(' | ')[0].rstrip('…') in dsn_text, path
    assert checked >= 50


def test_standard_delivery_reports_name_the_returned_message(corpus_dir: Path) -> None:
    # Given the labelled bounces whose returned original (message/rfc822) carries a Message-ID
    checked = 0
    for path, msg in _standard_reports(corpus_dir):
        returned = [p for p in _leaves(msg) if p.get_content_type() == 'message/rfc822']
        payloads = [p.get_payload() for p in returned]
        originals = [pl[0] for pl in payloads if isinstance(pl, list) and pl and isinstance(pl[0], Message)]
        ids = [str(o.get('message-id', '')).strip() for o in originals if o.get('message-id')]
        if not ids:
            continue
        checked += 1
        # When it is classified
        from_address, subject = reader_arguments(msg)
        result = classify(msg, from_address=from_address, subject=subject)

        # Then bounced_message_id is the returned original's Message-ID
        assert result.bounced_message_id is not None, path
        assert result.bounced_message_id.strip('<>') == ids[0].split()[0].strip('<>'), path
    assert checked >= 30


def test_feedback_reports_are_not_bounces(corpus_dir: Path) -> None:
    # Given the ARF complaint reports of the corpus (report-type=feedback-report)
    arf = list(corpus_dir.rglob('arf-*.eml'))
    assert arf

    # When they are classified / Then none is a bounce
    assert not any(_classify(p).is_bounce for p in arf)
