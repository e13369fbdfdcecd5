"""The embedded AWS of the dev runtime and the tests: moto server in this process, on a loopback port.

DynamoDB runs each request as if alone, and transactions serialisably. moto does not: it snapshots a
table before a transaction and restores the snapshot when the transaction is cancelled, which erases
writes that other threads acknowledged in between. `SerialisedDynamoDB` gives the guarantee back by
letting one DynamoDB request at a time into moto; the other services stay concurrent (an SQS
long poll must not hold up the table).
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from inboxdesk_cli.errors import PortBusyError
from inboxdesk_cli.local.background import ServingThread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the servers bind: connections of a previous run in TIME_WAIT do not make the port busy
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def moto_is_running(endpoint: str, timeout: float = 2.0) -> bool:
    """Does a moto server answer at `endpoint`? (Its reset/introspection API lives under /moto-api/.)"""
    try:
        with urllib.request.urlopen(f'{endpoint}/moto-api/reset-auth', timeout=timeout) as response:
            body = response.read(200)
    except urllib.error.HTTPError as error:  # moto answers this read with 400 ("Need to POST to reset Moto Auth")
        body = error.read(200)
    except (OSError, ValueError):
        return False
    return b'moto' in body.lower()


def check_ports(host: str, ports: dict[str, int]) -> None:
    """Fail early, with what to do, when any of the ports is taken."""
    for what, port in ports.items():
        if port_is_free(host, port):
            continue
        endpoint = f'http://{host}:{port}'
        if what == 'aws' and moto_is_running(endpoint):
            raise PortBusyError(
                f'a moto server is already running on {host}:{port} (another `inboxdesk dev`?). '
                f'Stop it, or choose another port with --aws-port.'
            )
        raise PortBusyError(f'port {host}:{port} ({what}) is already in use; choose another with --{what}-port.')


class SerialisedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time reaches `app` (every other request passes freely)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not str(environ.get('HTTP_X_AMZ_TARGET', '')).startswith('DynamoDB_'):
            return self.app(environ, start_response)
        with self.lock:  # the whole answer is built inside: moto's work happens while it is produced
            return list(self.app(environ, start_response))


class EmbeddedAws:
    """moto server on `host:port` (`port=0` picks a free one), with DynamoDB's request isolation."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._serving = ServingThread('embedded-aws')

    @property
    def endpoint(self) -> str:
        return f'http://{self.host}:{self.port}'

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger('werkzeug').setLevel(logging.ERROR)  # moto's per-request access log
        app: Any = DomainDispatcherApplication(create_backend_app)
        server = make_server(
            self.host, self.port, SerialisedDynamoDB(app), threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._serving.serve(server)

    def stop(self) -> None:
        self._serving.stop()
