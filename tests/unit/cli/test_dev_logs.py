"""The dev runtime's log routing: handlers' JSON lines go to `<data-dir>/logs/handlers.jsonl`, the console
shows one human line per outcome, and each function logs under its own service name."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from types import ModuleType

from aws_lambda_powertools import Logger

from inboxdesk_cli.local.runtime import DevRuntime, DevSettings
from tests.conftest import REPO
from tests.support.cli import cli_env


def _handler_module(console: io.StringIO) -> tuple[ModuleType, Logger]:
    """A handler module whose Powertools logger prints JSON to `console`, as a Lambda handler prints to stdout."""
    module = ModuleType('fake_handler')
    logger = Logger(service=f'inboxdesk-test-{uuid.uuid4().hex[:8]}', stream=console)
    setattr(module, 'logger', logger)  # noqa: B010 - a module attribute, as `logger = Logger()` makes one
    return module, logger


def _console(stream: io.StringIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    logging.getLogger('inboxdesk_dev').addHandler(handler)
    logging.getLogger('inboxdesk_dev').setLevel(logging.INFO)
    return handler


def test_the_console_shows_outcome_lines_and_the_json_goes_to_the_log_file(tmp_path: Path) -> None:
    # Given a handler whose JSON log lines would reach the console, hooked by a (not verbose) dev runtime
    console = io.StringIO()
    console_handler = _console(console)
    module, logger = _handler_module(console)
    runtime = DevRuntime(DevSettings(data_dir=tmp_path))
    try:
        runtime.hook_logs(module)
        # When the handler logs an outcome and a plain line
        logger.info('mail ingested', outcome='created', ticket_number=7, queue='Support', ticket_id='T1')
        logger.warning('request denied', status=403, path='/queues')
    finally:
        runtime.stop()
        logging.getLogger('inboxdesk_dev').removeHandler(console_handler)
    # Then the console shows the one human line and no JSON
    assert console.getvalue().splitlines() == ['ticket #7 created in queue Support']
    # And both JSON lines are in handlers.jsonl
    lines = [json.loads(line) for line in (tmp_path / 'logs' / 'handlers.jsonl').read_text().splitlines()]
    assert [(line['message'], line['service']) for line in lines] == [
        ('mail ingested', logger.service),
        ('request denied', logger.service),
    ]
    # And once stopped, the handler prints where it did before (the runtime leaves nothing redirected)
    logger.info('after the stop')
    assert json.loads(console.getvalue().splitlines()[-1])['message'] == 'after the stop'


def test_verbose_keeps_the_json_lines_on_the_console(tmp_path: Path) -> None:
    # Given a handler hooked by a verbose dev runtime
    console = io.StringIO()
    console_handler = _console(console)
    module, logger = _handler_module(console)
    runtime = DevRuntime(DevSettings(data_dir=tmp_path, verbose=True))
    try:
        runtime.hook_logs(module)
        # When it logs an outcome
        logger.info('mail ingested', outcome='duplicate', ticket_number=3)
    finally:
        runtime.stop()
        logging.getLogger('inboxdesk_dev').removeHandler(console_handler)
    # Then the console shows the JSON line and the human line, and no log file is written
    shown = console.getvalue().splitlines()
    assert json.loads(shown[0])['outcome'] == 'duplicate'
    assert shown[1:] == ['duplicate ignored (already in ticket #3)']
    assert not (tmp_path / 'logs' / 'handlers.jsonl').exists()


SCRIPT = textwrap.dedent(
    """
    import sys
    from inboxdesk_cli.commands.dev import _console
    from inboxdesk_cli.local.runtime import DevRuntime, DevSettings

    runtime = DevRuntime(DevSettings(data_dir=__import__('pathlib').Path(sys.argv[1]), aws_port=9))
    runtime._set_environment()  # the environment `inboxdesk dev` gives its handlers (no AWS call below)
    _console()
    import api.handler
    import inbound.handler
    from tests.support.api import context, event

    runtime.hook_logs(api.handler)
    runtime.hook_logs(inbound.handler)
    denied = api.handler.lambda_handler(event('GET', '/tickets'), context())
    assert denied['statusCode'] == 401, denied
    s3_test_event = '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}'
    record = {'messageId': 'm1', 'receiptHandle': 'h', 'body': s3_test_event, 'attributes': {},
              'messageAttributes': {}, 'md5OfBody': '', 'eventSource': 'aws:sqs', 'eventSourceARN': 'arn',
              'awsRegion': 'eu-west-1'}
    assert inbound.handler.lambda_handler({'Records': [record]}, context()) == {'batchItemFailures': []}
    runtime.stop()
    """
)


def test_api_and_inbound_log_under_their_own_service_names_in_one_process(tmp_path: Path) -> None:
    # Given one process as `inboxdesk dev` runs it: no POWERTOOLS_SERVICE_NAME, both handlers hooked
    shell = {k: v for k, v in os.environ.items() if k != 'POWERTOOLS_SERVICE_NAME' and not k.startswith('AWS_ENDPOINT')}
    env = cli_env(shell)
    # When the API denies an anonymous request and the inbound function skips S3's test event
    done = subprocess.run(
        [sys.executable, '-c', SCRIPT, str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # Then the console shows only the outcome line: no JSON, nothing "service_undefined"
    console = (done.stdout + done.stderr).splitlines()
    assert [line.split('  ', 1)[1] for line in console] == ['skipped']
    # And the JSON lines are in handlers.jsonl, each under its function's service name
    lines = [json.loads(line) for line in (tmp_path / 'logs' / 'handlers.jsonl').read_text().splitlines()]
    assert [(line['service'], line['message']) for line in lines] == [
        ('inboxdesk-api', 'request denied'),
        ('inboxdesk-inbound', 'mail ingested'),
    ]
