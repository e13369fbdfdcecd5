"""Every message of the shared corpus (real mail nobody here wrote) through the real inbound handler:
no exception, no loss - each ends as a ticket or a message on one, a linked bounce, a recognised
duplicate, or a dropped loop, and each has its outcome line."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.integration.test_inbound_handler import BUCKET, SUPPORT, Outcomes, collect_outcomes, handle, sqs_event
from tests.support.events import ses_receipt_notice

BATCH = 10
# moto deep-copies the whole table for every item of every transaction (its rollback), so a
# transaction costs time in proportion to the table: the corpus goes in chunks, each on a fresh
# embedded AWS. (Duplicates across chunks are then new tickets; within a chunk they are caught.)
CHUNK = 25
CHUNKS = 12  # the last chunk takes whatever is left, so every file is in one chunk


def _corpus_files(corpus_dir: Path) -> list[Path]:
    with (corpus_dir / 'MANIFEST.tsv').open(encoding='utf-8', newline='') as manifest:
        return [corpus_dir / row['path'] for row in csv.DictReader(manifest, delimiter='\t')]


@pytest.fixture
def outcomes() -> Iterator[Outcomes]:
    with collect_outcomes() as collector:
        yield collector


@pytest.mark.parametrize('chunk', range(CHUNKS))
def test_every_corpus_message_is_ingested_without_loss(aws, corpus_dir, outcomes, chunk):
    # Given the default queue and every corpus message stored as SES stores raw mail
    from inboxdesk.dal import tickets
    from inboxdesk.dal.table import MessageItem
    from inboxdesk.logic import queues

    queues.create_queue(name='Support', inbound_addresses=[SUPPORT])
    s3 = boto3.client('s3')
    everything = _corpus_files(corpus_dir)
    files = everything[chunk * CHUNK : (chunk + 1) * CHUNK] if chunk < CHUNKS - 1 else everything[chunk * CHUNK :]
    keys = []
    for index, path in enumerate(files):
        key = f'raw/corpus-{chunk * CHUNK + index:04d}'
        s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
        keys.append(key)
    # When the inbound function handles their notices in batches of ten
    for start in range(0, len(keys), BATCH):
        bodies = [
            ses_receipt_notice(bucket=BUCKET, key=key, recipients=[SUPPORT], source='sender@corpus.test')
            for key in keys[start : start + BATCH]
        ]
        # Then no record of any batch fails
        assert handle(sqs_event(*bodies)) == {'batchItemFailures': []}, keys[start : start + BATCH]
    # And every message has exactly one outcome line
    by_key = {line['s3_key']: line for line in outcomes.lines}
    assert len(outcomes.lines) == len(keys) and set(by_key) == set(keys)
    kinds = Counter(line['outcome'] for line in outcomes.lines)
    assert set(kinds) <= {'created', 'appended', 'duplicate', 'bounce_linked', 'loop_dropped'}, kinds
    # And every stored outcome is really stored: one message per created/appended/linked mail
    stored = [m for m in MessageItem.scan() if m.direction == 'inbound']
    assert len(stored) == kinds['created'] + kinds['appended'] + kinds['bounce_linked']
    assert {m.raw_key for m in stored} == {k for k, line in by_key.items() if line['outcome'] != 'duplicate'} - {
        k for k, line in by_key.items() if line['outcome'] == 'loop_dropped'
    }
    # And a duplicate names the ticket that already holds the same mail
    for line in outcomes.lines:
        if line['outcome'] == 'duplicate':
            assert tickets.get_ticket(line['ticket_id'])
    numbers = set()
    cursor = None
    while True:
        page, cursor = tickets.list_tickets(limit=200, cursor=cursor)
        numbers |= {t.number for t in page}
        if cursor is None:
            break
    assert len(numbers) == kinds['created']
