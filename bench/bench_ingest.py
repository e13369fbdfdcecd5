"""Ingestion on the embedded AWS (moto server over HTTP, in this process).

1. AWS calls per new mail (one attachment) and per threaded reply, counted with a botocore
   `before-call` event hook on every session in use (boto3's default session and PynamoDB's).
   Target: one S3 read, one DynamoDB transaction, one S3 write per attachment, at most two
   further calls. Replies: to a Message-ID made by `threading.make_message_id` (its ticket is read
   with the pointer), to SES's rewritten id with and without ours in References, to another id we
   sent, to the customer's own first mail, by the subject tag alone; and a new mail naming an
   unknown Message-ID.
2. Messages per second: N new mails (one small attachment each) through `ingest`,
   sequentially, into a table that grows from empty. moto deep-copies the table for every item of
   a transaction, so its cost grows with the table; the rate is printed per slice to show it.
3. Peak memory ingesting a 25 MB mail (a ~19 MB attachment, base64): tracemalloc's peak of Python
   allocations during the ingest (the raw bytes, the parsed attachment, the S3 upload).

Run: `.venv/bin/python -m bench bench_ingest` (BENCH_INGEST_N=100 by default).
"""

from __future__ import annotations

import os
import time
import tracemalloc
import uuid
from collections import Counter
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

N = int(os.environ.get('BENCH_INGEST_N', '100'))
SLICE = 25
BIG_MAIL_BYTES = 25 * 1024 * 1024


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_kwargs: Any) -> None:
        self.calls[f'{model.service_model.service_name}:{model.name}'] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


def _mail(
    subject: str,
    *,
    attachment: bytes = b'%PDF-1.4 small',
    in_reply_to: str | None = None,
    references: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg['From'] = 'Alice Customer <alice@customer.test>'
    msg['To'] = 'support@inboxdesk.test'
    msg['Subject'] = subject
    msg['Message-ID'] = make_msgid(domain='customer.test')
    if in_reply_to:
        msg['In-Reply-To'] = in_reply_to
    if references:
        msg['References'] = references
    msg.set_content('Hello,\n\nthe printer is on fire again.\n')
    msg.add_attachment(attachment, maintype='application', subtype='octet-stream', filename='report.bin')
    return msg.as_bytes()


def main() -> None:
    for name, value in {
        'AWS_DEFAULT_REGION': 'eu-west-1',
        'AWS_ACCESS_KEY_ID': 'testing',
        'AWS_SECRET_ACCESS_KEY': 'testing',
        'POWERTOOLS_METRICS_DISABLED': 'true',
        'POWERTOOLS_LOG_LEVEL': 'WARNING',
    }.items():
        os.environ[name] = value
    from inboxdesk_cli.local.embedded_aws import EmbeddedAws

    server = EmbeddedAws('127.0.0.1', 0)  # the embedded AWS of `make dev`
    server.start()
    try:
        _run(server.endpoint)
    finally:
        server.stop()


def _run(endpoint: str) -> None:
    from inboxdesk_cli.local.provision import create_resources, local_environment

    os.environ.update(local_environment(endpoint))
    import boto3

    counter = CallCounter()
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    hook: Any = counter
    boto3.DEFAULT_SESSION.events.register('before-call', hook)
    from inboxdesk.dal import table

    table.InboxdeskItem._get_connection().connection.session.register('before-call', hook)
    table.connection().session.register('before-call', hook)

    create_resources()
    from inboxdesk import resources as r
    from inboxdesk.dal import tickets
    from inboxdesk.logic import queues
    from inboxdesk.logic import replies as agent_replies
    from inboxdesk.logic.ingest import ingest as ingest_notice
    from inboxdesk.logic.threading import make_message_id
    from inboxdesk.models import InboundNotice, Participant

    bucket = os.environ[r.ENV_MAIL_BUCKET]
    s3 = boto3.client('s3')
    queues.create_queue(name='Support', inbound_addresses=['support@inboxdesk.test'])

    def ingest(raw: bytes) -> Any:
        key = f'raw/{uuid.uuid4().hex}'
        s3.put_object(Bucket=bucket, Key=key, Body=raw)
        counter.take()
        return ingest_notice(InboundNotice(source='mailbox', bucket=bucket, key=key))

    # Warm-up: PynamoDB's DescribeTable, the queue cache, the reader's imports.
    ingest(_mail('warm-up'))
    cold = counter.take()

    # 1. Calls per new mail and per threaded reply (each reply to the ticket of `outcome`).
    outcome = ingest(_mail('new mail'))
    new_calls = counter.take()

    def agent_reply(message_id: str) -> str:
        """An agent's reply on the ticket, as the API stores it; its normalised Message-ID."""
        reply = agent_replies.add_outbound_message(
            outcome.ticket_id,
            author='agent@inboxdesk.test',
            sender=Participant('Support', 'support@inboxdesk.test'),
            to=[Participant('Alice', 'alice@customer.test')],
            subject='Re: new mail',
            text='On it.',
            rfc_id=message_id,
        )
        return str(reply.rfc_id)

    def reply_calls(
        label: str, *, subject: str = 'Re: new mail', in_reply_to: str | None = None, references: str | None = None
    ) -> tuple[str, Counter[str]]:
        threaded = ingest(_mail(subject, in_reply_to=in_reply_to, references=references))
        assert threaded.kind == 'appended' and threaded.ticket_id == outcome.ticket_id, (label, threaded)
        return label, counter.take()

    ours = agent_reply(make_message_id(outcome.ticket_id, 'inboxdesk.test'))
    plain = agent_reply(make_msgid(domain='inboxdesk.test'))
    ses_id = f'{uuid.uuid4().hex}-000000@eu-west-1.amazonses.com'
    tickets.mark_delivery(
        outcome.ticket_id, tickets.list_messages(outcome.ticket_id)[-1].id, status='sent', provider_message_ids=[ses_id]
    )
    first = tickets.list_messages(outcome.ticket_id)[0].rfc_id
    number = tickets.get_ticket(outcome.ticket_id).number
    replies = [
        reply_calls('reply to a make_message_id Message-ID', in_reply_to=f'<{ours}>'),
        reply_calls(
            "reply to SES's id, ours in References", in_reply_to=f'<{ses_id}>', references=f'<{ours}> <{ses_id}>'
        ),
        reply_calls("reply to SES's id alone", in_reply_to=f'<{ses_id}>'),
        reply_calls('reply to any other Message-ID we sent', in_reply_to=f'<{plain}>'),
        reply_calls('customer follow-up to their own first mail', in_reply_to=f'<{first}>'),
        reply_calls('subject tag only, from the customer', subject=f'Re: [#{number}] new mail'),
    ]
    new_with_refs = ingest(_mail('forwarded thread', in_reply_to=make_msgid(domain='elsewhere.test')))
    assert new_with_refs.kind == 'created', new_with_refs
    print(f'warm-up (cold container) calls: {dict(cold)}')
    for label, calls in [
        ('new mail', new_calls),
        *replies,
        ('new mail naming a Message-ID we do not know', counter.take()),
    ]:
        further = (
            sum(calls.values()) - calls['s3:GetObject'] - calls['dynamodb:TransactWriteItems'] - calls['s3:PutObject']
        )
        print(f'{label}, 1 attachment: {sum(calls.values())} calls, {further} further: {dict(sorted(calls.items()))}')

    # 2. Throughput.
    raws = [_mail(f'load {i}') for i in range(N)]
    keys = []
    for raw in raws:
        key = f'raw/{uuid.uuid4().hex}'
        s3.put_object(Bucket=bucket, Key=key, Body=raw)
        keys.append(key)
    rates = []
    started = time.perf_counter()
    for start in range(0, N, SLICE):
        t0 = time.perf_counter()
        for key in keys[start : start + SLICE]:
            ingest_notice(InboundNotice(source='mailbox', bucket=bucket, key=key))
        rates.append(len(keys[start : start + SLICE]) / (time.perf_counter() - t0))
    total = N / (time.perf_counter() - started)
    counter.take()
    print(
        f'throughput: {total:.1f} mails/s over {N} new mails; per slice of {SLICE}: '
        + ', '.join(f'{r:.1f}' for r in rates)
    )

    # 3. Peak memory for a 25 MB mail.
    attachment = os.urandom(BIG_MAIL_BYTES * 3 // 4 - 64 * 1024)
    raw = _mail('big', attachment=attachment)
    del attachment
    key = f'raw/{uuid.uuid4().hex}'
    s3.put_object(Bucket=bucket, Key=key, Body=raw)
    size = len(raw)
    del raw
    tracemalloc.start()
    t0 = time.perf_counter()
    big = ingest_notice(InboundNotice(source='mailbox', bucket=bucket, key=key))
    elapsed = time.perf_counter() - t0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f'25 MB mail ({size / 1e6:.1f} MB raw): {big.kind} in {elapsed:.1f}s (traced); '
        f'peak Python allocations {peak / 1e6:.1f} MB ({peak / size:.1f}x the mail)'
    )


if __name__ == '__main__':
    main()
