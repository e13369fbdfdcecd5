"""Mail reader throughput and memory.

1. Throughput over the repository's own fixtures (tests/fixtures/emails) and over the real-world
   corpus when it is there (../shared/corpus, or INBOXDESK_CORPUS), side by side in one run:
   `read_email` against a bare `email.message_from_bytes(raw, policy=policy.default)` plus a walk
   that decodes every part with `get_content()`. Target: the reader no slower than 2x the bare walk.
   With no message to read at all the benchmark fails: a ratio over nothing measures nothing.
2. Peak memory (tracemalloc) reading a generated 25 MB message with attachments, as a multiple
   of the message size (the input bytes themselves are allocated before tracing starts).
   Target: at most 4x.

Run: `.venv/bin/python -m bench bench_mail_read`"""

from __future__ import annotations

import base64
import contextlib
import email
import gc
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from email import policy
from pathlib import Path

from inboxdesk.mail import read_email

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get('INBOXDESK_CORPUS') or REPO.parent / 'shared' / 'corpus')
FIXTURES = REPO / 'tests' / 'fixtures' / 'emails'
NOT_MAIL = {'README.md', 'MANIFEST.tsv', 'LICENSE', 'NOTICE.txt', 'NOTICE'}
ROUNDS = 7


def stdlib_walk(raw: bytes) -> None:
    """The baseline: parse with policy.default and decode every leaf."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    for part in msg.walk():
        if part.is_multipart():
            continue
        with contextlib.suppress(Exception):  # broken parts are part of the corpus
            part.get_content()


def corpus_messages() -> list[bytes]:
    files = sorted(p for p in CORPUS.rglob('*') if p.is_file() and p.name not in NOT_MAIL)
    return [p.read_bytes() for p in files]


def fixture_messages() -> list[bytes]:
    return [p.read_bytes() for p in sorted(FIXTURES.glob('*.eml'))]


def _time_round(fn: Callable[[bytes], object], messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        fn(raw)
    return time.perf_counter() - start


def throughput(name: str, messages: list[bytes]) -> float:
    total = sum(len(m) for m in messages)
    for raw in messages:  # warm up: imports (nh3, inscriptis, tnefparse), caches
        read_email(raw)
        stdlib_walk(raw)
    reader, bare = [], []
    for _ in range(ROUNDS):  # interleaved, so both see the same machine load
        bare.append(_time_round(stdlib_walk, messages))
        reader.append(_time_round(read_email, messages))
    r, b = statistics.median(reader), statistics.median(bare)
    print(f'{name}: {len(messages)} messages, {total / 1e6:.2f} MB, median of {ROUNDS} rounds')
    print(f'  stdlib parse + get_content walk: {b * 1000:8.1f} ms  ({total / b / 1e6:6.1f} MB/s)')
    print(f'  read_email:                      {r * 1000:8.1f} ms  ({total / r / 1e6:6.1f} MB/s)')
    print(f'  ratio read_email / stdlib: {r / b:.2f}x  (target <= 2x)')
    return r / b


def big_message(size: int = 25_000_000) -> bytes:
    """A multipart/mixed mail of about `size` bytes: text, HTML with an inline image, and
    base64 attachments of random (incompressible) bytes."""
    rng = random.Random(42)
    boundary = 'bench-boundary-0001'
    head = (
        'From: Big Sender <big@example.com>\r\nTo: support@example.com\r\nSubject: large attachments\r\n'
        'Message-ID: <big-1@example.com>\r\nMIME-Version: 1.0\r\n'
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    )
    parts = [head.encode()]
    parts.append(
        f'--{boundary}\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        '--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease see the attached files.\r\n'
        '--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
        '<p>Please see the attached files.</p><img src="cid:logo@x">\r\n--alt--\r\n'.encode()
    )
    per_file = (size - 2000) * 3 // 4 // 3
    for ctype, name in (('image/png', 'logo.png'), ('application/pdf', 'report.pdf'), (None, None)):
        payload = base64.encodebytes(rng.randbytes(per_file)).replace(b'\n', b'\r\n')
        header = f'--{boundary}\r\n'
        if ctype == 'image/png':
            header += (
                f'Content-Type: {ctype}\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline; filename="{name}"\r\n'
            )
        elif ctype:
            header += f'Content-Type: {ctype}; name="{name}"\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        else:
            header += 'Content-Type: application/octet-stream\r\n'
        header += 'Content-Transfer-Encoding: base64\r\n\r\n'
        parts.append(header.encode() + payload)
        del payload
    parts.append(f'--{boundary}--\r\n'.encode())
    return b''.join(parts)


def peak_memory(fn: Callable[[bytes], object], raw: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def memory() -> float:
    raw = big_message()
    size = len(raw)
    bare = peak_memory(stdlib_walk, raw)
    ours = peak_memory(read_email, raw)
    print(f'big message: {size / 1e6:.1f} MB (3 base64 attachments)')
    print(f'  stdlib parse + get_content walk peak: {bare / 1e6:7.1f} MB = {bare / size:.2f}x')
    print(f'  read_email peak:                      {ours / 1e6:7.1f} MB = {ours / size:.2f}x  (target <= 4x)')
    return ours / size


def main() -> None:
    inputs = {f'fixtures ({FIXTURES})': fixture_messages(), f'corpus ({CORPUS})': corpus_messages()}
    for name, messages in inputs.items():
        if messages:
            throughput(name, messages)
        else:
            print(f'{name}: no messages there, not measured (set INBOXDESK_CORPUS for a corpus elsewhere)')
    if not any(inputs.values()):
        raise SystemExit('bench_mail_read: no mail to read in any input: nothing was measured')
    memory()


if __name__ == '__main__':
    main()
