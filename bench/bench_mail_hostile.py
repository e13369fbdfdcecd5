"""Hostile mail: time and peak memory of `read_email` for each generated hostile mail
(tests/fixtures/hostile_mail.py: `&` and entity runs, deep `<div>` nesting, a NUL body, 10,000
headers, nested message/rfc822, 3,000 attachments, a 2,000-level multipart).

Peak memory is traced (tracemalloc) in a second read, apart from the timed one; the input bytes
are allocated before tracing starts. Target: at most 4x the mail's size plus a fixed allowance
for what every read costs whatever the size (imports warmed up before, HTML capped at
`MAX_HTML_CHARS`), and every mail keeps its From and Subject. Fails when no mail was generated.

Run: `.venv/bin/python -m bench bench_mail_hostile`"""

from __future__ import annotations

import sys
import time

from bench.bench_mail_read import peak_memory
from inboxdesk.mail import read_email
from tests.fixtures.hostile_mail import HOSTILE_MAILS, SUBJECT

MEMORY_FACTOR = 4
FIXED_ALLOWANCE = 32_000_000


def main() -> None:
    read_email(b'From: a@example.com\r\nContent-Type: text/html\r\n\r\n<p>warm up</p>')  # imports nh3, lxml...
    failures: list[str] = []
    print(f'{"mail":28} {"size MB":>8} {"read s":>7} {"peak MB":>8} {"peak/size":>9}  headers kept')
    for name, generate in HOSTILE_MAILS.items():
        raw = generate()
        start = time.perf_counter()
        email = read_email(raw)
        elapsed = time.perf_counter() - start
        kept = email.subject == SUBJECT and email.from_ is not None
        del email
        peak = peak_memory(read_email, raw)
        size = len(raw)
        print(f'{name:28} {size / 1e6:8.2f} {elapsed:7.2f} {peak / 1e6:8.1f} {peak / size:8.2f}x  {kept}', flush=True)
        if peak > MEMORY_FACTOR * size + FIXED_ALLOWANCE:
            failures.append(f'{name}: peak {peak / 1e6:.1f} MB')
        if not kept:
            failures.append(f'{name}: From or Subject lost')
        del raw
    if not HOSTILE_MAILS:
        failures.append('no hostile mail generated: nothing measured')
    print(f'target: peak <= {MEMORY_FACTOR}x size + {FIXED_ALLOWANCE / 1e6:.0f} MB, From and Subject kept')
    if failures:
        print('FAILED: ' + '; '.join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
