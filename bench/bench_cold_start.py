"""Cold start: what a new Lambda container costs before it answers, against a bare boto3 client.

Each measurement runs in a fresh interpreter (a new container), talking over HTTP to one embedded AWS
(moto server, started here) that holds the resources the CDK app declares:
- `import boto3` + one client: the floor every Python function on Lambda pays for AWS access;
- the same plus one GetItem: the floor of a first request that reads anything;
- `import api.handler` + the first `GET /tickets` (an agent's JWT claims, as API Gateway passes them);
- `import inbound.handler` + its first record (a mail stored by the SES-like SMTP door, its SNS-wrapped
  notice read back from the ingest queue, so the event is the one the SQS event source passes).
Rounds are interleaved (median of ROUNDS), in two modes: every module from .pyc, and our own modules
(the function and domain layer assets, which ship no bytecode) compiled from source, as on Lambda today.
Ratios are against the boto3 + one client floor of the same mode. A first request that does not answer
200 (API) or reports a failed record (inbound) fails the benchmark: it measured nothing.

Run: `.venv/bin/python -m bench bench_cold_start` (about a minute; BENCH_COLD_ROUNDS=7 by default).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get('BENCH_COLD_ROUNDS', '7'))
SUPPORT = 'support@inboxdesk.test'
RESULT = 'BENCH_RESULT '

# Runs in the fresh interpreter: time the import, then the first call; print the timings and a check.
CHILD = """
import json, sys, time
spec = json.loads(sys.stdin.read())

class Context:  # the attributes of Lambda's context object that Powertools reads
    function_name = spec['function']
    function_version = '$LATEST'
    memory_limit_in_mb = 1024
    aws_request_id = 'cold-start-1'
    invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{spec['function']}"
    log_group_name = log_stream_name = 'local'
    def get_remaining_time_in_millis(self):
        return 30000

started = time.perf_counter()
if spec['kind'] == 'boto3':
    import boto3
    client = boto3.client('dynamodb')
    imported = time.perf_counter()
    answer = client.get_item(TableName=spec['table'], Key={'pk': {'S': 'none'}, 'sk': {'S': 'none'}})
    ok = answer['ResponseMetadata']['HTTPStatusCode'] == 200
else:
    import importlib
    module = importlib.import_module(spec['module'])
    imported = time.perf_counter()
    answer = module.lambda_handler(spec['event'], Context())
    ok = answer.get('statusCode') == 200 if spec['kind'] == 'api' else answer == {'batchItemFailures': []}
done = time.perf_counter()
print('BENCH_RESULT ' + json.dumps({'import': imported - started, 'first': done - imported, 'ok': ok,
                                    'answer': str(answer)[:300]}))
"""


def _mail(n: int) -> bytes:
    mail = EmailMessage()
    mail['From'] = f'Customer {n} <customer{n}@example.org>'
    mail['To'] = SUPPORT
    mail['Subject'] = f'Printer on floor {n} is out of toner'
    mail['Message-ID'] = make_msgid(domain='example.org')
    mail.set_content('Hello,\n\nthe printer says the toner is empty.\n\nThanks\n')
    return mail.as_bytes()


class Embedded:
    """moto server with the stack's resources, a default queue, and one stored mail per inbound run."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger('werkzeug').setLevel(logging.ERROR)  # no line per request

        import socket

        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = int(s.getsockname()[1])
        self.server = ThreadedMotoServer(ip_address='127.0.0.1', port=port, verbose=False)
        self.server.start()
        from inboxdesk_cli.local.provision import create_resources, local_environment

        self.environment = local_environment(f'http://127.0.0.1:{port}')
        os.environ.update(self.environment)
        self.created = create_resources()
        from inboxdesk.logic import queues as queue_logic

        queue_logic.ensure_default_queue(name='Support', inbound_addresses=[SUPPORT])
        self.mails = 0

    def inbound_event(self) -> dict[str, Any]:
        """A new mail through the SES-like door; the SQS event carrying its notice, as Lambda would pass it."""
        import boto3

        from inboxdesk import resources as r
        from inboxdesk_cli.aws_events import build_sqs_event
        from inboxdesk_cli.local.ses_inbound import SesInbound

        sqs = boto3.client('sqs')
        queue_url = self.environment[r.ENV_INGEST_QUEUE_URL]
        door = SesInbound(
            s3=boto3.client('s3'),
            sqs=sqs,
            bucket=self.environment[r.ENV_MAIL_BUCKET],
            queue_url=queue_url,
            topic_arn='arn:aws:sns:eu-west-1:123456789012:' + r.LOCAL_NAMES['INBOUND_TOPIC'],
            accepts=lambda _address: True,
        )
        self.mails += 1
        door.receive(_mail(self.mails), f'customer{self.mails}@example.org', [SUPPORT])
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=['All'], MessageAttributeNames=['All']
        )['Messages']
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]['ReceiptHandle'])
        queue_arn = f'arn:aws:sqs:eu-west-1:123456789012:{queue_url.rsplit("/", 1)[1]}'
        return build_sqs_event(messages, queue_arn=queue_arn, region='eu-west-1')

    def stop(self) -> None:
        self.server.stop()


def _api_event() -> dict[str, Any]:
    from tests.support.api import AGENT, event

    return event('GET', '/tickets', claims=AGENT)


def _run(spec: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, '-c', CHILD],
        input=json.dumps(spec),
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith(RESULT)]
    if out.returncode != 0 or not lines:
        raise SystemExit(f'{spec["kind"]}: the fresh process failed:\n{out.stderr[-2000:]}')
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT))
    if not result['ok']:
        raise SystemExit(f'{spec["kind"]}: the first request did not succeed, nothing was measured: {result}')
    return result


def main() -> None:
    embedded = Embedded()
    prefix_all = tempfile.mkdtemp(prefix='bench-pyc-all-')
    prefix_deps = tempfile.mkdtemp(prefix='bench-pyc-deps-')
    try:
        base = {
            **os.environ,
            **embedded.environment,
            'PYTHONPATH': os.pathsep.join(str(REPO / p) for p in ('layers/inboxdesk/python', 'functions', '.')),
            'POWERTOOLS_TRACE_DISABLED': 'true',
            'POWERTOOLS_DEV': 'false',
        }
        base.pop('PYTHONDONTWRITEBYTECODE', None)
        table = embedded.environment['TABLE_NAME']
        cases = {
            'import boto3 + one client': {'kind': 'boto3', 'function': 'bare', 'table': table, 'part': 'import'},
            '  + one GetItem': {'kind': 'boto3', 'function': 'bare', 'table': table, 'part': 'total'},
            'api.handler: import + first GET /tickets': {
                'kind': 'api',
                'module': 'api.handler',
                'function': 'inboxdesk-api',
                'service': 'inboxdesk-api',
            },
            'inbound.handler: import + first record': {
                'kind': 'inbound',
                'module': 'inbound.handler',
                'function': 'inboxdesk-inbound',
                'service': 'inboxdesk-inbound',
            },
        }
        modes = {
            'from .pyc': {**base, 'PYTHONPYCACHEPREFIX': prefix_all},
            # Third-party bytecode cached, ours compiled each time (the repository's folders are left out).
            'ours from source': {**base, 'PYTHONPYCACHEPREFIX': prefix_deps, 'PYTHONDONTWRITEBYTECODE': '1'},
        }
        seconds: dict[tuple[str, str], list[tuple[float, float]]] = {(c, m): [] for c in cases for m in modes}
        for warm in (modes['from .pyc'], {**base, 'PYTHONPYCACHEPREFIX': prefix_deps}):  # fill both caches once
            for spec in cases.values():
                _run({**spec, 'event': _event(spec, embedded)}, {**warm, 'POWERTOOLS_SERVICE_NAME': 'warm-up'})
        for ours in ('layers', 'functions'):  # not .venv, which may sit inside the checkout
            shutil.rmtree(Path(prefix_deps) / str(REPO).lstrip('/') / ours, ignore_errors=True)
        for _ in range(ROUNDS):
            for name, spec in cases.items():
                for mode, environment in modes.items():
                    env = {**environment, 'POWERTOOLS_SERVICE_NAME': str(spec.get('service', 'bare'))}
                    result = _run({**spec, 'event': _event(spec, embedded)}, env)
                    seconds[name, mode].append((result['import'], result['first']))
        _report(cases, modes, seconds)
    finally:
        embedded.stop()
        shutil.rmtree(prefix_all, ignore_errors=True)
        shutil.rmtree(prefix_deps, ignore_errors=True)


def _event(spec: dict[str, Any], embedded: Embedded) -> dict[str, Any] | None:
    if spec['kind'] == 'api':
        return _api_event()
    if spec['kind'] == 'inbound':
        return embedded.inbound_event()
    return None


def _report(
    cases: dict[str, dict[str, Any]], modes: dict[str, Any], seconds: dict[tuple[str, str], list[tuple[float, float]]]
) -> None:
    def ms(name: str, mode: str) -> tuple[float, float, float]:
        runs = seconds[name, mode]
        imported = statistics.median(i for i, _ in runs) * 1000
        first = statistics.median(f for _, f in runs) * 1000
        total = statistics.median(i + f for i, f in runs) * 1000
        if cases[name].get('part') == 'import':  # the floor: import and client, no request
            return imported, 0.0, imported
        return imported, first, total

    print(f'cold start: fresh interpreter per run, median of {ROUNDS} interleaved runs, embedded AWS over HTTP')
    print(f'  {"":<42}' + ''.join(f' {mode + " (import/first/total, ratio)":>44}' for mode in modes))
    floor = {mode: ms('import boto3 + one client', mode)[2] for mode in modes}
    for name in cases:
        cells = []
        for mode in modes:
            imported, first, total = ms(name, mode)
            cells.append(f'{imported:6.0f} /{first:5.0f} /{total:6.0f} ms {total / floor[mode]:5.2f}x')
        print(f'  {name:<42}' + ''.join(f' {cell:>44}' for cell in cells))
    print('  ratio: total against `import boto3` + one client in the same mode')


if __name__ == '__main__':
    main()
