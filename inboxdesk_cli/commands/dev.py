"""`inboxdesk dev`: the whole system on this machine, on the embedded AWS, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from inboxdesk_cli.data_dir import default_data_dir


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument('--host', default=env('INBOXDESK_DEV_HOST', '127.0.0.1'), help='address every server binds')
    parser.add_argument('--aws-port', type=int, default=_env_int('INBOXDESK_DEV_AWS_PORT', 5000), help='moto server')
    parser.add_argument('--smtp-port', type=int, default=_env_int('INBOXDESK_DEV_SMTP_PORT', 2525), help='SES inbound')
    parser.add_argument('--api-port', type=int, default=_env_int('INBOXDESK_DEV_API_PORT', 8000), help='REST API')
    parser.add_argument(
        '--catcher-port', type=int, default=_env_int('INBOXDESK_DEV_CATCHER_PORT', 1025), help='SMTP catcher'
    )
    parser.add_argument(
        '--data-dir',
        type=Path,
        default=default_data_dir(),
        help="the data folder: the signing key of the dev API's tokens (jwt.key, made on first start) and the"
        " handlers' logs (default .dev, or INBOXDESK_DEV_DATA_DIR)",
    )
    parser.add_argument('--verbose', action='store_true', help="print the handlers' JSON logs too")


def _console() -> logging.Logger:
    console = logging.getLogger('inboxdesk_dev')
    if not console.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter('%(asctime)s  %(message)s', datefmt='%H:%M:%S'))
        console.addHandler(handler)
    console.setLevel(logging.INFO)
    console.propagate = False
    return console


def run(args: argparse.Namespace) -> int:
    from inboxdesk.errors import InboxdeskError
    from inboxdesk_cli.errors import DevRuntimeError
    from inboxdesk_cli.local.runtime import DevRuntime, DevSettings

    console = _console()
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    settings = DevSettings(
        host=args.host,
        aws_port=args.aws_port,
        smtp_port=args.smtp_port,
        api_port=args.api_port,
        catcher_port=args.catcher_port,
        data_dir=args.data_dir,
        verbose=args.verbose,
    )
    runtime = DevRuntime(settings)
    try:
        runtime.start()
    except (DevRuntimeError, InboxdeskError, OSError) as error:
        runtime.stop()
        print(f'inboxdesk dev: {error}', file=sys.stderr)
        return 1
    except BaseException:
        runtime.stop()
        raise
    for line in runtime.describe():
        console.info(line)
    console.info('inboxdesk dev is ready')
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        console.info('stopping')
        runtime.stop()
    console.info('stopped')
    # Everything is stopped and closed. Skip tearing down the ~1.6 million objects of moto's
    # backends and botocore's models, which takes seconds after Ctrl-C on a busy machine.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
