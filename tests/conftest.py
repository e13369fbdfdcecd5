"""Shared fixtures. The environment is set before any `inboxdesk` import: PynamoDB reads the
table name when a model class is created."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Real-world mail nobody here wrote: next to the checkout in the Inboxdesk workspace, or INBOXDESK_CORPUS.
CORPUS = Path(os.environ.get('INBOXDESK_CORPUS') or REPO.parent / 'shared' / 'corpus')
CORPUS_MISSING = f'the real-world mail corpus is not at {CORPUS} (set INBOXDESK_CORPUS to a folder of mail)'
FIXTURES = Path(__file__).resolve().parent / 'fixtures'

os.environ.update(
    {
        'AWS_DEFAULT_REGION': 'eu-west-1',
        'AWS_ACCESS_KEY_ID': 'testing',
        'AWS_SECRET_ACCESS_KEY': 'testing',
        'POWERTOOLS_SERVICE_NAME': 'inboxdesk-tests',
        'POWERTOOLS_METRICS_NAMESPACE': 'Inboxdesk',
        'POWERTOOLS_TRACE_DISABLED': 'true',
        'POWERTOOLS_DEV': 'false',
        # where a dev runtime records its data folder: the session's own, not the user's
        'XDG_STATE_HOME': tempfile.mkdtemp(prefix='inboxdesk-tests-state-'),
    }
)
os.environ.pop('AWS_PROFILE', None)
# What a deployed function finds in its environment, so handlers imported at collection pass their cold-start
# check; `moto_endpoint` replaces these with the embedded AWS's and makes the functions read them again.
os.environ.update(
    {
        'TABLE_NAME': 'inboxdesk-local',
        'MAIL_BUCKET': 'inboxdesk-mail-local',
        'OUTBOUND_QUEUE_URL': 'https://sqs.eu-west-1.amazonaws.com/123456789012/inboxdesk-outbound-local',
        'SES_CONFIGURATION_SET': 'inboxdesk-local',
        'REPLY_TOKEN_SECRET_ARN': 'inboxdesk/reply-token-key',
        'INGEST_DLQ_URL': 'https://sqs.eu-west-1.amazonaws.com/123456789012/inboxdesk-ingest-dlq-local',
        'CURSOR_SECRET_ARN': 'inboxdesk/cursor-key',
    }
)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope='session')
def moto_endpoint() -> Iterator[str]:
    """The embedded AWS of `make dev` (moto server over HTTP, DynamoDB's requests isolated), shared by the
    whole session."""
    from inboxdesk_cli.local.embedded_aws import EmbeddedAws
    from inboxdesk_cli.local.provision import local_environment

    server = EmbeddedAws('127.0.0.1', 0)
    server.start()
    endpoint = server.endpoint
    from inboxdesk.config import clear_settings

    saved = {k: os.environ.get(k) for k in local_environment(endpoint)}
    os.environ.update(local_environment(endpoint))
    clear_settings()
    yield endpoint
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    clear_settings()


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[dict[str, str]]:
    """A clean embedded AWS with every Inboxdesk resource created; reset after the test."""
    import urllib.request

    from inboxdesk.dal.queues import clear_routing_cache
    from inboxdesk_cli.local.provision import create_resources

    created = create_resources()
    clear_routing_cache()  # the inbound function's warm cache must not outlive the tables it came from
    yield created
    clear_routing_cache()
    urllib.request.urlopen(urllib.request.Request(f'{moto_endpoint}/moto-api/reset', method='POST')).close()


@pytest.fixture(scope='session')
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(CORPUS_MISSING)
    return CORPUS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say at the end of the run why the corpus tests skipped: without -rs pytest only counts them."""
    if CORPUS.is_dir():
        return
    # a parametrisation over the absent corpus is empty: pytest skips it with its own reason
    skipped = [r for r in terminalreporter.stats.get('skipped', []) if 'corpus' in f'{r.nodeid} {r.longrepr}']
    if skipped:
        terminalreporter.write_line(f'{len(skipped)} corpus tests skipped: {CORPUS_MISSING}', yellow=True)
